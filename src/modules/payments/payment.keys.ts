import { createHash } from 'node:crypto';
import type { Scope } from '../checkouts/checkout.types.ts';

/**
 * Every id and processor key the payment operations derive. Derived, not drawn, so that whatever path asks
 * again — a retried request, recovery after a crash — names the same payment, capture, refund, void or
 * release, and the processor acts once.
 */

/** A payment id derived from an Idempotency-Key: a retried request finds and resumes the same payment. */
export function paymentIdForIdempotencyKey(scope: Scope, idempotencyKey: string): string {
  const digest = createHash('sha256')
    .update(`payment:${scope.merchantId}:${scope.livemode}:${idempotencyKey}`)
    .digest('hex');
  return `pay_${digest.slice(0, 32)}`;
}

/** The automatic capture of a payment has a fixed id, so a retry finds (and resumes) the same capture. */
export function automaticCaptureId(paymentId: string): string {
  return `cap_${createHash('sha256').update(`auto:${paymentId}`).digest('hex').slice(0, 32)}`;
}

/**
 * The processor key of the void or refund that releases a given-up payment. Fixed per payment (and per kind,
 * since a key may never name two different requests), so every path that releases it — the late answer, a
 * duplicate, a concurrent notification, recovery after a crash — sends the same request, which acts once.
 */
export function releaseIdempotencyKey(paymentId: string, kind: 'void' | 'refund'): string {
  return kind === 'void' ? `${paymentId}:release` : `${paymentId}:release-refund`;
}

/** A refund id derived from an Idempotency-Key: a retry after a crash resumes the same refund row. */
export function refundIdForIdempotencyKey(scope: Scope, paymentId: string, idempotencyKey: string): string {
  return `ref_${digest(`refund:${scope.merchantId}:${scope.livemode}:${paymentId}:${idempotencyKey}`)}`;
}

/** A capture id derived from an Idempotency-Key: a retry after a crash resumes the same capture row. */
export function captureIdForIdempotencyKey(scope: Scope, paymentId: string, idempotencyKey: string): string {
  return `cap_${digest(`capture:${scope.merchantId}:${scope.livemode}:${paymentId}:${idempotencyKey}`)}`;
}

/** A payment is voided at most once, so its void has one fixed processor key. */
export function voidIdempotencyKey(paymentId: string): string {
  return `${paymentId}:void`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
