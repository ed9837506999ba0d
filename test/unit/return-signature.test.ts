import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appendQueryParams } from '../../src/lib/merchant-urls.ts';
import { signReturnParams, verifyReturnSignature } from '../../src/lib/return-signature.ts';

const SECRET = 'kss_dGVzdC1zZWNyZXQtZm9yLXJldHVybi11cmxzLTEyMzQ1Ng';
const NOW = new Date('2025-03-01T12:00:00.000Z');
const input = {
  checkoutId: 'chk_0123456789abcdef0123456789abcdef',
  orderId: 'ord_0123456789abcdef0123456789abcdef',
  status: 'PAID',
};

function signedUrl(base = 'https://shop.example/done?ref=42#/thanks') {
  return appendQueryParams(base, signReturnParams(input, SECRET, NOW));
}

describe('return URL signatures', () => {
  it('signs checkout_id.order_id.status.timestamp with HMAC-SHA256 of the secret, hex', () => {
    const params = signReturnParams(input, SECRET, NOW);
    const timestamp = String(NOW.getTime() / 1000);
    expect(params.timestamp).toBe(timestamp);
    expect(params.signature).toBe(
      createHmac('sha256', SECRET)
        .update(`${input.checkoutId}.${input.orderId}.PAID.${timestamp}`)
        .digest('hex'),
    );
  });

  it('verifies a signed URL, keeping the merchant parameters and fragment', () => {
    const url = signedUrl();
    expect(url.startsWith('https://shop.example/done?ref=42&checkout_id=')).toBe(true);
    expect(url.endsWith('#/thanks')).toBe(true);
    const result = verifyReturnSignature(url, SECRET, { now: NOW });
    expect(result).toEqual({ valid: true, ...input, timestamp: NOW.getTime() / 1000 });
    expect(verifyReturnSignature(new URL(url).searchParams, SECRET, { now: NOW.getTime() }).valid).toBe(true);
  });

  it('refuses a changed value, another secret, and a replaced signature', () => {
    const url = new URL(signedUrl());
    const tampered = new URL(url);
    tampered.searchParams.set('status', 'CANCELED');
    expect(verifyReturnSignature(tampered, SECRET, { now: NOW })).toEqual({
      valid: false,
      reason: 'signature_mismatch',
    });
    expect(verifyReturnSignature(url, `${SECRET}x`, { now: NOW })).toEqual({
      valid: false,
      reason: 'signature_mismatch',
    });
    const forged = new URL(url);
    forged.searchParams.set('signature', '0'.repeat(64));
    expect(verifyReturnSignature(forged, SECRET, { now: NOW })).toEqual({
      valid: false,
      reason: 'signature_mismatch',
    });
  });

  it('refuses missing, repeated and malformed parameters', () => {
    const url = new URL(signedUrl());
    const missing = new URL(url);
    missing.searchParams.delete('order_id');
    expect(verifyReturnSignature(missing, SECRET, { now: NOW }).valid).toBe(false);
    const repeated = new URL(`${url.href.split('#')[0]}&status=PAID`);
    expect(verifyReturnSignature(repeated, SECRET, { now: NOW })).toEqual({
      valid: false,
      reason: 'duplicate_parameter',
    });
    const malformed = new URL(url);
    malformed.searchParams.set('signature', 'XYZ');
    expect(verifyReturnSignature(malformed, SECRET, { now: NOW })).toEqual({
      valid: false,
      reason: 'malformed',
    });
  });

  it('refuses a timestamp outside the tolerance, either way', () => {
    const url = signedUrl();
    const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
    expect(verifyReturnSignature(url, SECRET, { now: later(600) }).valid).toBe(true);
    expect(verifyReturnSignature(url, SECRET, { now: later(601) })).toEqual({
      valid: false,
      reason: 'too_old',
    });
    expect(verifyReturnSignature(url, SECRET, { now: later(-601) })).toEqual({
      valid: false,
      reason: 'in_future',
    });
    expect(verifyReturnSignature(url, SECRET, { now: later(3000), toleranceSeconds: 3600 }).valid).toBe(true);
  });
});
