import type { UnitOfWork } from '../../db/client.ts';
import { notFoundError } from '../../lib/errors.ts';
import { patchedMetadata, type MetadataPatch } from '../../lib/metadata.ts';
import { findOrder, writeOrderMetadata } from './order.repository.ts';
import { orderEvent } from './order.service.ts';
import type { Order } from './order.types.ts';

/**
 * `PATCH /v1/orders/{id}`: the order's `metadata`, merged key by key (docs/api-conventions.md, Metadata), in
 * any status. Under the order's row lock only (no other lock is taken, so no lock order to keep); the
 * version rises by one and `order.updated` carries the new snapshot. A patch that changes nothing writes
 * nothing, emits nothing and keeps the version.
 */
export async function updateOrder(
  tx: UnitOfWork,
  scope: { merchantId: string; livemode: boolean },
  id: string,
  patch: { metadata?: MetadataPatch | null | undefined },
  now: Date,
): Promise<Order> {
  const order = await findOrder(tx, scope, id, { forUpdate: true });
  if (!order) throw notFoundError('order', id);
  const metadata = patchedMetadata(order.metadata, patch.metadata);
  if (!metadata) return order;
  const next: Order = { ...order, metadata, updatedAt: now, version: order.version + 1 };
  writeOrderMetadata(tx, next);
  tx.emit(orderEvent(next, 'order.updated'));
  return next;
}
