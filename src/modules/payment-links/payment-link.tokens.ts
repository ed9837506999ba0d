import type { Keyring } from '../../lib/keyring.ts';

/**
 * The signature segment of a payment link (`/l/{payment_link_id}/{signature}`): an HMAC-SHA256 of the id under
 * a key derived for this purpose only, as for checkout URLs. The id alone (in events, logs, the merchant's
 * systems) does not open the link; the signature is checked before anything is read from the database.
 */

const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;

export function paymentLinkSignature(keyring: Keyring, linkId: string): string {
  return keyring.hmac('payment-link-signature', linkId).toString('hex');
}

/** Constant-time check; false for anything malformed. */
export function verifyPaymentLinkSignature(keyring: Keyring, linkId: string, signature: string): boolean {
  if (typeof signature !== 'string' || !SIGNATURE_PATTERN.test(signature)) return false;
  return keyring.verifyHmac('payment-link-signature', linkId, Buffer.from(signature, 'hex'));
}

export function paymentLinkUrl(publicUrl: string, keyring: Keyring, linkId: string): string {
  return `${publicUrl}/l/${linkId}/${paymentLinkSignature(keyring, linkId)}`;
}

export function paymentLinkQrSvgUrl(publicUrl: string, keyring: Keyring, linkId: string): string {
  return `${paymentLinkUrl(publicUrl, keyring, linkId)}/qr.svg`;
}
