import type { UnitOfWork } from '../../db/client.ts';
import { notFoundError } from '../../lib/errors.ts';
import { patchedMetadata, type MetadataPatch } from '../../lib/metadata.ts';
import { findOrderByCheckoutId } from '../orders/order.service.ts';
import { checkoutEvent } from './checkout.events.ts';
import type { CheckoutPresentationDeps } from './checkout.presenter.ts';
import { findCheckout, writeCheckoutMetadata } from './checkout.repository.ts';
import type { CheckoutWithOrder, Scope } from './checkout.types.ts';

/**
 * `PATCH /v1/checkouts/{id}`: the session's own `metadata` (not its order's), merged key by key
 * (docs/api-conventions.md, Metadata), in any status — it is the merchant's annotation, not part of what the
 * shopper pays. Under the session's row lock (the first lock of every path); the order is only read, for the
 * snapshot. A change raises the version and writes `checkout.updated`; a patch that changes nothing writes
 * nothing, emits nothing and keeps the version.
 */
export async function updateCheckout(
  tx: UnitOfWork,
  deps: CheckoutPresentationDeps,
  scope: Scope,
  id: string,
  patch: { metadata?: MetadataPatch | null | undefined },
  now: Date,
): Promise<CheckoutWithOrder> {
  const checkout = await findCheckout(tx, scope, id, { forUpdate: true });
  if (!checkout) throw notFoundError('checkout', id);
  const order = await findOrderByCheckoutId(tx, scope, id);
  if (!order) throw new Error(`Checkout ${id} has no order`); // both are written in one transaction
  const metadata = patchedMetadata(checkout.metadata, patch.metadata);
  if (!metadata) return { checkout, order };
  const next = { checkout: { ...checkout, metadata, updatedAt: now, version: checkout.version + 1 }, order };
  writeCheckoutMetadata(tx, next.checkout);
  tx.emit(checkoutEvent(deps, next, 'checkout.updated'));
  return next;
}
