import type { Keyring } from '../../lib/keyring.ts';

/**
 * Signed proxy URLs for the `http:` resources of a merchant's callback page (the callbacks flow: "all HTTP resources
 * are proxied"): `/callback-proxy/{signature}?url={percent-encoded absolute http URL}`.
 *
 * `signature` = base64url HMAC-SHA256 (keyring purpose `proxy-url-signature`) over `callback-proxy:{url}`.
 * Only Kassa can mint one, and only while rewriting a callback page (or a stylesheet it proxies), so the
 * proxy fetches exactly the URLs merchants' pages named — it is not an open proxy. The proxy still goes
 * through egress (no private addresses in production) and forwards only images and stylesheets.
 */

export const CALLBACK_PROXY_PATH = '/callback-proxy';

function proxySignedData(url: string): string {
  return `callback-proxy:${url}`;
}

function signatureOf(keyring: Keyring, url: string): Buffer {
  return keyring.hmac('proxy-url-signature', proxySignedData(url));
}

/** The same-origin path that serves `url` (an absolute http URL) through the proxy. */
export function proxyPathFor(keyring: Keyring, url: string): string {
  const signature = signatureOf(keyring, url).toString('base64url');
  return `${CALLBACK_PROXY_PATH}/${signature}?url=${encodeURIComponent(url)}`;
}

/**
 * True when `signature` was minted for exactly this `url` (constant-time comparison), under the current
 * master key or a previous one: a callback page (or a cached copy of it) rewritten before a master-key
 * rotation keeps its images while the previous key is configured.
 */
export function verifyProxySignature(keyring: Keyring, url: string, signature: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}$/.test(signature)) return false;
  return keyring.verifyHmac('proxy-url-signature', proxySignedData(url), Buffer.from(signature, 'base64url'));
}
