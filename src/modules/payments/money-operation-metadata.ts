import type { Queryable } from '../../db/client.ts';
import { notFoundError } from '../../lib/errors.ts';
import { patchedMetadata, type MetadataPatch } from '../../lib/metadata.ts';
import {
  findScopedCapture,
  findScopedRefund,
  updateCaptureMetadata,
  updateRefundMetadata,
} from './money-operation.repository.ts';
import type { Capture, Refund } from './payment.types.ts';

type Scope = { merchantId: string; livemode: boolean };

/**
 * `PATCH /v1/captures/{id}` and `PATCH /v1/refunds/{id}`: a capture's or refund's `metadata`, merged key by key
 * (docs/api-conventions.md, Metadata), in any status. Nothing else of these append-only rows changes, and
 * they carry no `version`; a patch that changes nothing writes nothing.
 */
export async function updateCapture(
  tx: Queryable,
  scope: Scope,
  id: string,
  patch: { metadata?: MetadataPatch | null | undefined },
  now: Date,
): Promise<{ capture: Capture; currency: string }> {
  const found = await findScopedCapture(tx, scope, id, { forUpdate: true });
  if (!found) throw notFoundError('capture', id);
  const metadata = patchedMetadata(found.capture.metadata, patch.metadata);
  if (!metadata) return found;
  await updateCaptureMetadata(tx, id, metadata, now);
  return { ...found, capture: { ...found.capture, metadata, updatedAt: now } };
}

export async function updateRefund(
  tx: Queryable,
  scope: Scope,
  id: string,
  patch: { metadata?: MetadataPatch | null | undefined },
  now: Date,
): Promise<{ refund: Refund; currency: string }> {
  const found = await findScopedRefund(tx, scope, id, { forUpdate: true });
  if (!found) throw notFoundError('refund', id);
  const metadata = patchedMetadata(found.refund.metadata, patch.metadata);
  if (!metadata) return found;
  await updateRefundMetadata(tx, id, metadata, now);
  return { ...found, refund: { ...found.refund, metadata, updatedAt: now } };
}
