import type { Keyring } from '../../lib/keyring.ts';

/**
 * CSRF tokens for the hosted pages' forms, without cookies: a token is bound to what the form acts on (a
 * checkout, or a sandbox payment reference) and to the time it was issued:
 *
 *   `${issuedAt}.${base64url HMAC-SHA256(keyring 'csrf', `${binding}.${issuedAt}`)}`
 *
 * A forged form on another site cannot produce one (it needs the key), a token for another checkout does not
 * verify, and a token older than `CSRF_MAX_AGE_SECONDS` is stale: the page is shown again with a fresh token
 * rather than acting on a form the shopper filled in hours ago.
 */

export const CSRF_MAX_AGE_SECONDS = 2 * 60 * 60;
/** Clocks of several gateway processes may differ a little; a token from further ahead is forged. */
const FUTURE_SKEW_SECONDS = 60;
const TOKEN_PATTERN = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

export type CsrfCheck = 'valid' | 'expired' | 'invalid';

function mac(keyring: Keyring, binding: string, issuedAt: string): Buffer {
  return keyring.hmac('csrf', `${binding}.${issuedAt}`);
}

export function issueCsrfToken(keyring: Keyring, binding: string, now: Date): string {
  const issuedAt = String(Math.floor(now.getTime() / 1000));
  return `${issuedAt}.${mac(keyring, binding, issuedAt).toString('base64url')}`;
}

/** Constant-time check of a submitted token against the binding; the age is judged only once the MAC holds. */
export function checkCsrfToken(
  keyring: Keyring,
  binding: string,
  token: unknown,
  now: Date,
  maxAgeSeconds = CSRF_MAX_AGE_SECONDS,
): CsrfCheck {
  if (typeof token !== 'string') return 'invalid';
  const match = TOKEN_PATTERN.exec(token);
  if (!match) return 'invalid';
  const issuedAt = match[1]!;
  const given = Buffer.from(match[2]!, 'base64url');
  if (!keyring.verifyHmac('csrf', `${binding}.${issuedAt}`, given)) return 'invalid';
  const age = Math.floor(now.getTime() / 1000) - Number(issuedAt);
  if (age < -FUTURE_SKEW_SECONDS) return 'invalid';
  return age > maxAgeSeconds ? 'expired' : 'valid';
}

/**
 * The hosted payment form's token: a CSRF token that is also bound to the version of the order the page showed,
 *
 *   `o${orderVersion}.${issuedAt}.${base64url HMAC-SHA256(keyring 'csrf', `checkout:${id}:order:${v}.${issuedAt}`)}`
 *
 * so a submitted form says, unforgeably, which amount the shopper saw. When the merchant replaced the order in
 * the meantime (`PUT /v1/checkouts/{id}`), the version differs: the submission charges nothing and the page is
 * shown again with the new amount. The version travels in clear (it is no secret) so that a changed order can
 * be told apart from a forged or stale form.
 */
export type CheckoutFormCheck =
  { check: 'valid'; orderVersion: number } | { check: Exclude<CsrfCheck, 'valid'>; orderVersion?: undefined };

const CHECKOUT_TOKEN_PATTERN = /^o(\d{1,9})\.(.+)$/;
const checkoutBinding = (checkoutId: string, orderVersion: number) =>
  `checkout:${checkoutId}:order:${orderVersion}`;

export function issueCheckoutFormToken(
  keyring: Keyring,
  checkoutId: string,
  orderVersion: number,
  now: Date,
): string {
  return `o${orderVersion}.${issueCsrfToken(keyring, checkoutBinding(checkoutId, orderVersion), now)}`;
}

/** Checks a hosted payment form's token; when it holds, says which order version the form was made for. */
export function checkCheckoutFormToken(
  keyring: Keyring,
  checkoutId: string,
  token: unknown,
  now: Date,
): CheckoutFormCheck {
  if (typeof token !== 'string') return { check: 'invalid' };
  const match = CHECKOUT_TOKEN_PATTERN.exec(token);
  if (!match) return { check: 'invalid' };
  const orderVersion = Number(match[1]);
  const check = checkCsrfToken(keyring, checkoutBinding(checkoutId, orderVersion), match[2], now);
  return check === 'valid' ? { check, orderVersion } : { check };
}
