import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/client.ts';
import { sha256 } from '../../lib/hashing.ts';
import type { Keyring } from '../../lib/keyring.ts';

/**
 * The two secrets a checkout hands out:
 *
 * - the signature segment of `checkout_redirect_url` (`/pay/{checkout_id}/{signature}`, the redirect-checkout flow): an
 *   HMAC-SHA256 of the id under a key derived for this purpose only, so a checkout id alone (which appears in
 *   events, logs, merchant systems) does not open the payment page;
 * - the browser-safe `client_token` (`ct_` + 256 random bits): shown once, stored only as its SHA-256, and
 *   scoped to one checkout and to the few routes that declare `merchant_or_client_token`.
 */

/** What a valid client token opens: one checkout of one merchant in one mode. */
export type ClientTokenScope = { checkoutId: string; merchantId: string; livemode: boolean };

const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;
const CLIENT_TOKEN_PATTERN = /^ct_[A-Za-z0-9_-]{43}$/;

/** Hex HMAC-SHA256 of the checkout id (64 characters). */
export function checkoutUrlSignature(keyring: Keyring, checkoutId: string): string {
  return keyring.hmac('checkout-url-signature', checkoutId).toString('hex');
}

/** Constant-time check of a `/pay/{id}/{signature}` segment; false for anything malformed. */
export function verifyCheckoutUrlSignature(keyring: Keyring, checkoutId: string, signature: string): boolean {
  if (typeof signature !== 'string' || !SIGNATURE_PATTERN.test(signature)) return false;
  return keyring.verifyHmac('checkout-url-signature', checkoutId, Buffer.from(signature, 'hex'));
}

export function checkoutRedirectUrl(publicUrl: string, keyring: Keyring, checkoutId: string): string {
  return `${publicUrl}/pay/${checkoutId}/${checkoutUrlSignature(keyring, checkoutId)}`;
}

export function newClientToken(): { token: string; digest: Buffer } {
  const token = `ct_${randomBytes(32).toString('base64url')}`;
  return { token, digest: sha256(token) };
}

/**
 * Resolves a client token to its checkout, or undefined. The lookup is by digest (a unique index), so it
 * leaks nothing through timing about other tokens. A token stays valid for its checkout whatever the
 * checkout's status: routes decide what a closed session may still show.
 */
export async function verifyClientToken(db: Queryable, token: string): Promise<ClientTokenScope | undefined> {
  if (typeof token !== 'string' || !CLIENT_TOKEN_PATTERN.test(token)) return undefined;
  const { rows } = await db.query<{ id: string; merchant_id: string; livemode: boolean }>(
    'SELECT id, merchant_id, livemode FROM checkouts WHERE client_token_sha256 = $1',
    [sha256(token)],
  );
  const row = rows[0];
  return row ? { checkoutId: row.id, merchantId: row.merchant_id, livemode: row.livemode } : undefined;
}

/** The form `registerAuthentication` takes. */
export function createClientTokenVerifier(
  db: Queryable,
): (token: string) => Promise<ClientTokenScope | undefined> {
  return (token) => verifyClientToken(db, token);
}
