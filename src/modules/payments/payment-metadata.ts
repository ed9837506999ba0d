import type { Queryable } from '../../db/client.ts';
import { notFoundError } from '../../lib/errors.ts';
import { patchedMetadata, type MetadataPatch } from '../../lib/metadata.ts';
import { findPayment, updatePaymentMetadata } from './payment.repository.ts';
import type { Payment } from './payment.types.ts';

/**
 * `PATCH /v1/payments/{id}`: the payment's `metadata`, merged key by key (docs/api-conventions.md, Metadata), in
 * any status. Under the payment's row lock, like every change of a payment, so a flow deciding on it meanwhile
 * waits; the version rises by one. A patch that changes nothing writes nothing and keeps the version.
 */
export async function updatePayment(
  tx: Queryable,
  scope: { merchantId: string; livemode: boolean },
  id: string,
  patch: { metadata?: MetadataPatch | null | undefined },
  now: Date,
): Promise<Payment> {
  const payment = await findPayment(tx, scope, id, { forUpdate: true });
  if (!payment) throw notFoundError('payment', id);
  const metadata = patchedMetadata(payment.metadata, patch.metadata);
  if (!metadata) return payment;
  return updatePaymentMetadata(tx, payment, metadata, now);
}
