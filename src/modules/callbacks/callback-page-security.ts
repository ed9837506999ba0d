/**
 * Response headers for a merchant's callback page served to the shopper (after `sanitizeCallbackHtml`).
 *
 * The sanitiser removes active content; this policy makes the browser refuse it even if something slipped
 * through, and keeps every request the page makes inside a small set:
 *
 * - `sandbox allow-forms`: the document gets an opaque origin and NO script of any kind runs (no
 *   `allow-scripts`), no plugins, no popups, no top-level navigation of other contexts, no storage or cookies
 *   of Kassa's origin; forms stay usable because the merchant's receipt page may have some ("continue
 *   shopping", a survey). `allow-top-navigation-by-user-activation` is not needed: the page IS the top-level
 *   document (`frame-ancestors 'none'`), and a document may always navigate itself (links work).
 * - `default-src 'none'`: nothing loads unless named below — no scripts, frames, objects, media, fetches, …
 * - `img-src 'self' <kassa> https: data:`: https images directly, `http:` ones via Kassa's signed proxy
 *   (same origin; the explicit origin is there as well as `'self'` because the sandboxed document's own
 *   origin is opaque), inline `data:` images.
 * - `style-src 'self' <kassa> https: 'unsafe-inline'`: the merchant's inline `<style>` / `style=""` and
 *   stylesheets (https directly, http via the proxy). CSS cannot run script; 'unsafe-inline' is the price of
 *   serving a page we did not write, and the page holds no Kassa secret worth exfiltrating through CSS.
 * - `font-src https:`: web fonts the merchant's https stylesheets use.
 * - `form-action <origins>`: the origins the page's forms post to (computed by the sanitiser, which rewrote
 *   every action) that are ALSO the merchant's own — the origins of the checkout's callback and redirect URLs.
 *   Nothing else: a page on Kassa's origin must not hand a shopper's input to an arbitrary site (phishing), so a
 *   form posting elsewhere, or a POST answered by a redirect to another origin (Chrome applies form-action to
 *   the redirects after a POST), is refused by the browser. With no such origin: `'none'`.
 * - `frame-ancestors 'none'` + `X-Frame-Options: DENY`: never framed (clickjacking); `base-uri 'none'`.
 * - `Cache-Control: no-store` (a receipt is personal), `nosniff`, `Referrer-Policy: no-referrer` (the page's
 *   URL is the shopper's payment page and must not leak to the sites it links to).
 */

/** A CSP host-source: scheme, DNS name / IPv4 / bracketed IPv6, optional port (nothing that ends a directive). */
const SAFE_ORIGIN = /^https?:\/\/(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function cspOrigins(urls: readonly string[]): string[] {
  const origins = new Set<string>();
  for (const value of urls) {
    try {
      const { origin, protocol } = new URL(value);
      if ((protocol === 'http:' || protocol === 'https:') && SAFE_ORIGIN.test(origin)) origins.add(origin);
    } catch {
      // not a URL: no source for it
    }
  }
  return [...origins];
}

export function callbackPageHeaders(input: {
  /** Kassa's public URL (its origin serves the proxy). */
  publicUrl: string;
  /** Where the page's forms post (see `SanitizedCallbackPage.formOrigins`). */
  formOrigins: readonly string[];
  /** The merchant's own origins: those of the checkout's callback and redirect URLs (`checkoutFormOrigins`). */
  merchantOrigins: readonly string[];
}): Record<string, string> {
  const kassa = cspOrigins([input.publicUrl]).join(' ');
  const merchant = new Set(cspOrigins(input.merchantOrigins));
  const forms = cspOrigins(input.formOrigins).filter((origin) => merchant.has(origin));
  const csp = [
    'sandbox allow-forms',
    "default-src 'none'",
    `img-src 'self' ${kassa} https: data:`,
    `style-src 'self' ${kassa} https: 'unsafe-inline'`,
    'font-src https:',
    `form-action ${forms.length > 0 ? forms.join(' ') : "'none'"}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ]
    .map((directive) => directive.replace(/\s+/g, ' ').trim())
    .join('; ');
  return {
    'Content-Security-Policy': csp,
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  };
}

/** Headers for a resource served by the proxy: never sniffed, never a document that could run anything. */
export function proxiedResourceHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'X-Content-Type-Options': 'nosniff',
    // Opened on its own (an SVG, say), the resource is an inert sandboxed document.
    'Content-Security-Policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox",
    'Cache-Control': 'private, max-age=300',
    'Referrer-Policy': 'no-referrer',
  };
}
