import { z } from 'zod';
import { zMetadata, zMetadataOut, zMetadataPatch } from '../../lib/metadata.ts';

/**
 * The customer object of `/v1/customers` (docs/customers.md) and the fields a merchant sends for one — the
 * same rules as the customer inside an order (`order.customer`, src/modules/orders/order.schemas.ts).
 */

const zText = (max: number) => z.string().max(max).regex(/\S/, { error: 'must not be empty or blank' });

export const zPersonName = zText(100);
export const zCustomerEmail = z
  .email({ error: 'must be an e-mail address such as "shopper@example.com"' })
  .max(254);
export const zCustomerPhone = z
  .string()
  .regex(/^\+?[0-9][0-9 ().-]{3,30}$/, { error: 'must be a phone number such as "+52 55 1234 5678"' });

export const zCustomerCreate = z.strictObject({
  email: zCustomerEmail.describe(
    "Identifies the customer (case-insensitively) among the merchant's customers of this mode: a checkout with this address uses this customer",
  ),
  first_name: zPersonName.optional(),
  last_name: zPersonName.optional(),
  phone: zCustomerPhone.optional(),
  metadata: zMetadata.optional(),
});

export const zCustomerUpdate = z.strictObject({
  email: zCustomerEmail.optional(),
  first_name: zPersonName.nullable().optional().describe('null clears it'),
  last_name: zPersonName.nullable().optional().describe('null clears it'),
  phone: zCustomerPhone.nullable().optional().describe('null clears it'),
  metadata: zMetadataPatch.optional(),
});

export const zCustomerListQuery = z.object({
  email: z
    .string()
    .max(254)
    .optional()
    .describe('Only the customer with this e-mail address (case-insensitive)'),
});

const zTimestamp = z
  .string()
  .meta({ description: 'RFC 3339 UTC timestamp', example: '2025-01-31T12:00:00.000Z' });

export const ZCustomerObject = z
  .object({
    id: z.string().describe('cus_…'),
    object: z.literal('customer'),
    customer_id: z.string().describe('The same as `id` (a documented alias)'),
    livemode: z.boolean(),
    email: z.string(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    phone: z.string().nullable(),
    metadata: zMetadataOut,
    version: z.number().int().describe('Grows by one with each change'),
    created_at: zTimestamp,
    updated_at: zTimestamp,
  })
  .meta({ id: 'Customer' });

export const ZDeletedCustomer = z
  .object({ id: z.string(), object: z.literal('customer'), deleted: z.literal(true) })
  .meta({ id: 'DeletedCustomer' });

export type CustomerObject = z.infer<typeof ZCustomerObject>;
