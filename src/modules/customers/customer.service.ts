import type { Queryable } from '../../db/client.ts';
import type { PageRequest } from '../../db/pagination.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError, notFoundError, validationError } from '../../lib/errors.ts';
import {
  mergeMetadata,
  metadataKeyCountError,
  sameMetadata,
  type Metadata,
  type MetadataPatch,
} from '../../lib/metadata.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { Customer } from '../orders/order.types.ts';
import { removeAllCustomerSavedCards } from '../payments/saved-payment-method.service.ts';
import { normalizeEmail } from './customer.mapping.ts';
import {
  findCustomer,
  findCustomerIdByEmail,
  insertCustomer,
  listCustomers,
  softDeleteCustomer,
  updateCustomer,
} from './customer.repository.ts';
import type { CustomerObject } from './customer.schemas.ts';

/**
 * Customers (docs/customers.md): one per merchant, mode and e-mail address. Checkouts find or create theirs by
 * e-mail (`upsertCustomer`); the API creates, reads, lists, updates and deletes them. Deleting a customer
 * removes its saved cards (the sealed card data is wiped) and frees its e-mail address; its orders and
 * payments stay as they were and still show it.
 */

export { upsertCustomer, findCustomer } from './customer.repository.ts';

export type CustomerDeps = { clock: Clock };

export type NewCustomerInput = {
  email: string;
  first_name?: string | undefined;
  last_name?: string | undefined;
  phone?: string | undefined;
  metadata?: Metadata | undefined;
};

export type CustomerPatch = {
  email?: string | undefined;
  first_name?: string | null | undefined;
  last_name?: string | null | undefined;
  phone?: string | null | undefined;
  metadata?: MetadataPatch | null | undefined;
};

async function emailTaken(db: Queryable, scope: Scope, email: string): Promise<AppError> {
  const holder = await findCustomerIdByEmail(db, scope, email);
  return new AppError(
    'conflict',
    `Customer ${holder ?? '(another)'} already has the e-mail address ${email}; update that customer instead`,
    { extensions: holder ? { customer_id: holder } : {} },
  );
}

export async function createCustomer(
  tx: Queryable,
  deps: CustomerDeps,
  scope: Scope,
  input: NewCustomerInput,
): Promise<Customer> {
  const created = await insertCustomer(
    tx,
    scope,
    {
      email: input.email,
      firstName: input.first_name ?? null,
      lastName: input.last_name ?? null,
      phone: input.phone ?? null,
      metadata: input.metadata ?? {},
    },
    deps.clock.now(),
  );
  if (!created) throw await emailTaken(tx, scope, input.email);
  return created;
}

/** A customer of this merchant and mode that is not deleted, else 404. */
export async function getCustomer(db: Queryable, scope: Scope, id: string): Promise<Customer> {
  const customer = await findCustomer(db, scope, id);
  if (!customer) throw notFoundError('customer', id);
  return customer;
}

export function listCustomerPage(
  db: Queryable,
  scope: Scope,
  page: PageRequest,
  filters: { email?: string | undefined },
): Promise<Customer[]> {
  return listCustomers(db, scope, page, filters);
}

/** A JSON merge patch of the customer; one that changes nothing keeps the version. */
export async function patchCustomer(
  tx: Queryable,
  deps: CustomerDeps,
  scope: Scope,
  id: string,
  patch: CustomerPatch,
): Promise<Customer> {
  const current = await findCustomer(tx, scope, id, { lock: true });
  if (!current) throw notFoundError('customer', id);
  const metadata =
    patch.metadata === undefined ? current.metadata : mergeMetadata(current.metadata, patch.metadata);
  const metadataError = metadataKeyCountError(metadata);
  if (metadataError) throw validationError([metadataError]);
  const next: Customer = {
    ...current,
    email: patch.email ?? current.email,
    firstName: patch.first_name === undefined ? current.firstName : patch.first_name,
    lastName: patch.last_name === undefined ? current.lastName : patch.last_name,
    phone: patch.phone === undefined ? current.phone : patch.phone,
    metadata,
  };
  const unchanged =
    next.email === current.email &&
    next.firstName === current.firstName &&
    next.lastName === current.lastName &&
    next.phone === current.phone &&
    sameMetadata(next.metadata, current.metadata);
  if (unchanged) return current;
  const updated = await updateCustomer(tx, next, deps.clock.now());
  if (!updated) {
    // The row is locked and not deleted, so only the new address can be the reason.
    if (normalizeEmail(next.email) !== normalizeEmail(current.email))
      throw await emailTaken(tx, scope, next.email);
    throw notFoundError('customer', id);
  }
  return updated;
}

/**
 * Deletes a customer: its saved cards are removed (sealed card data wiped) and its e-mail address is free for
 * a new customer; the row stays, so its past orders and payments keep working and keep showing it.
 */
export async function deleteCustomer(
  tx: Queryable,
  deps: CustomerDeps,
  scope: Scope,
  id: string,
): Promise<void> {
  const deleted = await softDeleteCustomer(tx, scope, id, deps.clock.now());
  if (!deleted) throw notFoundError('customer', id);
  await removeAllCustomerSavedCards(tx, deps, scope, id);
}

export function presentCustomerObject(customer: Customer): CustomerObject {
  return {
    id: customer.id,
    object: 'customer',
    customer_id: customer.id,
    livemode: customer.livemode,
    email: customer.email,
    first_name: customer.firstName,
    last_name: customer.lastName,
    phone: customer.phone,
    metadata: customer.metadata,
    version: customer.version,
    created_at: customer.createdAt.toISOString(),
    updated_at: customer.updatedAt.toISOString(),
  };
}
