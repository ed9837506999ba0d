import { createHash } from 'node:crypto';
import { pooledRandomBase64 } from '../../lib/random.ts';

/**
 * Response headers for every hosted page (payment page, 3-D Secure, wallet, status pages), and for the API
 * reference at `/docs`.
 *
 * The CSP allows scripts and styles only from our own origin or carrying this response's nonce, so no inline
 * script, inline event handler, `style` attribute or third-party script can run (PCI DSS 6.4.3 / 11.6.1:
 * the page loads exactly the scripts listed in docs/page-scripts.md). `form-action` also lists the merchant's
 * redirect origins because Chrome applies it to the redirect that follows a form POST.
 */

const NONCE_BYTES = 16;

/** A fresh nonce per response: 128 random bits, base64 (CSP nonces must be unguessable and single-use). */
export function createCspNonce(): string {
  return pooledRandomBase64(NONCE_BYTES);
}

export type PageSecurityOptions = {
  /** Origins (or full URLs, reduced to their origin) the page's forms may end up at after redirects. */
  formActionOrigins: readonly string[];
};

const NONCE_PATTERN = /^[A-Za-z0-9+/]{16,}={0,2}$/;
/** A host-source as CSP defines it: scheme, DNS name / IPv4 / bracketed IPv6, optional port. */
const SAFE_ORIGIN = /^https?:\/\/(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** Reduces a URL to its origin; refuses anything but http(s) so nothing else can reach the header. */
function toHttpOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`form-action origin is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`form-action origin must be http(s): ${JSON.stringify(value)}`);
  }
  // The WHATWG parser lets `;` and `,` through in host names; either would end the directive in the header.
  if (!SAFE_ORIGIN.test(url.origin)) {
    throw new TypeError(
      `form-action origin has characters a CSP source cannot carry: ${JSON.stringify(value)}`,
    );
  }
  return url.origin;
}

// A merchant's few redirect origins come back on every page of its checkouts: the CSP after its nonces (the
// checked form-action directive among the fixed ones) is built once per origin list (bounded, cleared when
// full) rather than parsing the same URLs and joining the same directives for every response.
const MAX_FORM_ACTION_DIRECTIVES = 1000;
const cspTails = new Map<string, string>();

/** Everything of the CSP after `style-src`'s nonce: fixed directives and this origin list's form-action. */
function cspTail(origins: readonly string[]): string {
  const key = JSON.stringify(origins);
  let tail = cspTails.get(key);
  if (tail === undefined) {
    const formAction = ["form-action 'self'", ...new Set(origins.map(toHttpOrigin))].join(' ');
    tail = `'; img-src 'self' https: data:; connect-src 'self'; ${formAction}; frame-ancestors 'none'; base-uri 'none'`;
    if (cspTails.size >= MAX_FORM_ACTION_DIRECTIVES) cspTails.clear();
    cspTails.set(key, tail);
  }
  return tail;
}

/** The headers every page shares, whatever its CSP. */
const COMMON_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};
/** The same, as [lowercase name, value] pairs, to be set one after the other without building an object. */
const COMMON_PAGE_HEADER_ENTRIES: readonly (readonly [string, string])[] = Object.entries(
  COMMON_PAGE_HEADERS,
).map(([name, value]) => [name.toLowerCase(), value] as const);

/**
 * The page's Content-Security-Policy: `default-src 'none'`, scripts and styles from our origin or with this
 * nonce, images from our origin, https: and data:, fetches to our origin, forms to our origin and `formActionOrigins`,
 * no framing, no `<base>`.
 */
function pageCsp(nonce: string, options: PageSecurityOptions): string {
  // The nonce is ours, but it is pasted into a header: refuse anything that could end the directive.
  if (!NONCE_PATTERN.test(nonce)) throw new TypeError('CSP nonce must be base64 of at least 12 bytes');
  return `default-src 'none'; script-src 'nonce-${nonce}' 'self'; style-src 'self' 'nonce-${nonce}${cspTail(options.formActionOrigins)}`;
}

export function pageSecurityHeaders(nonce: string, options: PageSecurityOptions): Record<string, string> {
  return { 'Content-Security-Policy': pageCsp(nonce, options), ...COMMON_PAGE_HEADERS };
}

/**
 * Sets exactly the headers of `pageSecurityHeaders` (lowercase names) through `target.header`: what every
 * hosted page response does, without the per-response object, spread and key walk.
 */
export function setPageSecurityHeaders(
  target: { header(name: string, value: string): unknown },
  nonce: string,
  options: PageSecurityOptions,
): void {
  target.header('content-security-policy', pageCsp(nonce, options));
  for (const [name, value] of COMMON_PAGE_HEADER_ENTRIES) target.header(name, value);
}

// swagger-ui draws its small logo as an SVG with this one inline style element; its hash lets exactly that in
// (@fastify/swagger-ui is pinned; test/browser/api-docs.test.ts fails on any CSP refusal if it changes).
const SWAGGER_LOGO_STYLE = '.logo_small_svg__cls-2{fill:#fff}.logo_small_svg__cls-3{fill:#85ea2d}';

/**
 * The API reference at `/docs` (swagger-ui): the same headers as every page. Its scripts and styles are files
 * of our origin (no inline script; one inline style element, allowed by its hash), it fetches `/openapi.json`
 * and "Try it out" calls the API on this origin, and its logo is a data: image; nothing else may load (the
 * online validator badge is off).
 */
export const DOCS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'sha256-${createHash('sha256').update(SWAGGER_LOGO_STYLE).digest('base64')}'`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '),
  ...COMMON_PAGE_HEADERS,
};
