import type { Customer } from '../orders/order.types.ts';

/**
 * A `customers` row and its mapping, shared by the customers repository and the readers that join the
 * customer to an order (orders, the hosted page): a row type, not SQL, so those modules need not import
 * this module's repository.
 */
export type CustomerRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  email: string;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  metadata: Record<string, string | number | boolean>;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
  deleted_at: Date | string | null;
};

/** Also reads the `to_jsonb(customers)` form, whose timestamps arrive as strings. */
export function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    phone: row.phone,
    metadata: row.metadata ?? {},
    version: row.version ?? 1,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    deletedAt: row.deleted_at ? new Date(row.deleted_at) : null,
  };
}

/** E-mail addresses identify a customer case-insensitively (what shoppers and mail servers do in practice). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
