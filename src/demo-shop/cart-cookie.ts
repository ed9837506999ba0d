import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { normalizeItems, type CartItems } from './catalogue.ts';
import { idPattern } from '../lib/ids.ts';

/**
 * The demo shop's cart lives in one signed cookie (no tables): `v1.<base64url JSON>.<base64url HMAC>`.
 *
 * The cookie holds only choices the shopper may make anyway (which products, how many) and the id of the
 * last checkout or payment link made from it; prices always come from the catalogue on the server. The
 * signature keeps a hand-edited or foreign cookie from being read at all: anything that does not verify is
 * an empty cart. The key is the shop's own, derived from its API key (the only secret it has).
 */

export const CART_COOKIE = 'kassa_demo_cart';
const VERSION = 'v1';
const MAX_COOKIE_LENGTH = 2_048;

export type DemoCart = {
  /** 16 random bytes, hex: names the cart in metadata and its order number. */
  id: string;
  items: CartItems;
  /**
   * What was last made from this cart, so the shop notices when it has been paid and starts a new cart; for
   * the embedded checkout also its browser-safe client token (Kassa shows it once), which the checkout page
   * hands to the SDK.
   */
  pending?: { kind: 'checkout' | 'payment_link'; id: string; clientToken?: string };
};

const CART_ID = /^[0-9a-f]{32}$/;
const PENDING_ID = idPattern('chk', 'pl');
const CLIENT_TOKEN = /^ct_[A-Za-z0-9_-]{16,128}$/;

export function newCart(): DemoCart {
  return { id: randomBytes(16).toString('hex'), items: {} };
}

export type CartCookieKey = Buffer;

export function cartCookieKey(apiKey: string): CartCookieKey {
  return createHmac('sha256', apiKey).update('kassa demo shop: cart cookie v1').digest();
}

function sign(key: CartCookieKey, payload: string): string {
  return createHmac('sha256', key).update(`${VERSION}.${payload}`).digest('base64url');
}

export function encodeCart(key: CartCookieKey, cart: DemoCart): string {
  const payload = Buffer.from(JSON.stringify(cart)).toString('base64url');
  return `${VERSION}.${payload}.${sign(key, payload)}`;
}

/** The cart in a cookie value; undefined when missing, malformed or not signed with `key`. */
export function decodeCart(key: CartCookieKey, value: string | undefined): DemoCart | undefined {
  if (!value || value.length > MAX_COOKIE_LENGTH) return undefined;
  const [version, payload, signature, extra] = value.split('.');
  if (version !== VERSION || !payload || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(sign(key, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { id, items, pending } = parsed as Record<string, unknown>;
  if (typeof id !== 'string' || !CART_ID.test(id) || typeof items !== 'object' || items === null)
    return undefined;
  const cart: DemoCart = { id, items: normalizeItems(items as Record<string, unknown>) };
  const made = typeof pending === 'object' && pending !== null ? (pending as Record<string, unknown>) : {};
  if (
    (made.kind === 'checkout' || made.kind === 'payment_link') &&
    typeof made.id === 'string' &&
    PENDING_ID.test(made.id)
  ) {
    cart.pending = { kind: made.kind, id: made.id };
    if (typeof made.clientToken === 'string' && CLIENT_TOKEN.test(made.clientToken)) {
      cart.pending.clientToken = made.clientToken;
    }
  }
  return cart;
}

/** The value of one cookie in a `Cookie` request header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/**
 * `Set-Cookie` for the cart: only sent to /demo (the hosted payment pages never see it), not readable by
 * scripts, not sent on cross-site POSTs (`SameSite=Lax`, so another site cannot fill the cart), `Secure`
 * when the shop is served over https. A session cookie: it ends with the browser.
 */
export function cartSetCookie(value: string, secure: boolean): string {
  return `${CART_COOKIE}=${value}; Path=/demo; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
