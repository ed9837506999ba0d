import { createHash } from 'node:crypto';
import { derivedId } from '../../lib/ids.ts';
import type { Scope } from '../checkouts/checkout.types.ts';

/**
 * Every id and processor key the payment operations derive. Derived, not drawn, so that whatever path asks
 * again — a retried request, recovery after a crash — names the same payment, capture, refund, void or
 * release, and the processor acts once.
 */

/**
 * A payment id derived from an Idempotency-Key: a retried request finds and resumes the same payment. It takes
 * its checkout's time part (`derivedId`); the key's fingerprint check refuses the same key with another
 * checkout, so one key still names one payment.
 */
export function paymentIdForIdempotencyKey(scope: Scope, checkoutId: string, idempotencyKey: string): string {
  return derivedId(
    'pay',
    checkoutId,
    digest(`payment:${scope.merchantId}:${scope.livemode}:${idempotencyKey}`),
  );
}

/** The automatic capture of a payment has a fixed id, so a retry finds (and resumes) the same capture. */
export function automaticCaptureId(paymentId: string): string {
  return derivedId('cap', paymentId, digest(`auto:${paymentId}`));
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
  return derivedId(
    'ref',
    paymentId,
    digest(`refund:${scope.merchantId}:${scope.livemode}:${paymentId}:${idempotencyKey}`),
  );
}

/** A capture id derived from an Idempotency-Key: a retry after a crash resumes the same capture row. */
export function captureIdForIdempotencyKey(scope: Scope, paymentId: string, idempotencyKey: string): string {
  return derivedId(
    'cap',
    paymentId,
    digest(`capture:${scope.merchantId}:${scope.livemode}:${paymentId}:${idempotencyKey}`),
  );
}

/** A payment is voided at most once, so its void has one fixed processor key. */
export function voidIdempotencyKey(paymentId: string): string {
  return `${paymentId}:void`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
