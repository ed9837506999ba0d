/**
 * The URL rewriting of a merchant's callback page (docs/callbacks.md), used by the sanitiser
 * (`callback-html.ts`) and by the proxy for stylesheets (`callback-resource-proxy.ts`): resources load over
 * https directly or through the signed proxy, links go to http(s) / mailto / tel or stay in-page, forms post
 * to absolute http(s) URLs, and a stylesheet's `url()` / `@import` are rewritten the same way.
 */

const NAVIGATION_SCHEMES = new Set(['http:', 'https:', 'mailto:', 'tel:']);
const IMAGE_DATA_URL = /^data:image\/(?:png|gif|jpeg|webp|avif|bmp|svg\+xml)[;,]/i;

export function parseAbsolute(raw: string, base: string): URL | null {
  try {
    return new URL(raw.trim(), base);
  } catch {
    return null;
  }
}

/**
 * Where a resource (image, stylesheet, CSS url()) is loaded from: an https URL as is, an http URL through the
 * proxy, an image data URL as is (only when `allowImageData`); anything else is refused (null).
 */
export function rewriteResourceUrl(
  raw: string,
  base: string,
  proxy: (httpUrl: string) => string,
  allowImageData = true,
): string | null {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  if (/^data:/i.test(trimmed)) return allowImageData && IMAGE_DATA_URL.test(trimmed) ? trimmed : null;
  const url = parseAbsolute(trimmed, base);
  if (!url || url.username !== '' || url.password !== '') return null;
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:') return proxy(url.href);
  return null;
}

/** Where a link goes: fragment-only links stay in the page; else an absolute http(s) / mailto / tel URL. */
export function rewriteNavigationUrl(raw: string, base: string): string | null {
  const trimmed = raw.trim();
  if (trimmed.startsWith('#')) return trimmed;
  const url = parseAbsolute(trimmed, base);
  if (!url || !NAVIGATION_SCHEMES.has(url.protocol)) return null;
  return url.href;
}

/** Where a form posts: an absolute http(s) URL (an empty action means the page's own URL, as in a browser). */
export function rewriteFormAction(raw: string | undefined, base: string, pageUrl: string): string | null {
  if (raw === undefined || raw.trim() === '') return pageUrl;
  const url = parseAbsolute(raw, base);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null;
  return url.href;
}

// `url(…)` with a quoted or unquoted argument, and `@import "…"` (whose string is a URL too).
const CSS_URL = /url\(\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^)\s'"]*))\s*\)/gi;
const CSS_IMPORT_STRING = /@import\s+(?:"([^"\n]*)"|'([^'\n]*)')/gi;
/** A harmless stand-in for a refused CSS URL (an empty url() would point at the page itself). */
const REFUSED_CSS_URL = 'url("data:,")';

/**
 * Rewrites the URLs of a stylesheet: each `url()` and `@import` string goes through `rewrite` (null: refused).
 * Rewritten URLs are serialised by the URL parser (no quotes, no newlines), so they cannot break out of the
 * CSS string they are put in.
 */
export function rewriteCssUrls(css: string, rewrite: (raw: string) => string | null): string {
  const quoted = (url: string) => `"${url.replace(/["\\\n\r]/g, (char) => encodeURIComponent(char))}"`;
  return css
    .replace(CSS_IMPORT_STRING, (_match, double?: string, single?: string) => {
      const target = rewrite(double ?? single ?? '');
      return target ? `@import ${quoted(target)}` : `@import ${quoted('data:,')}`;
    })
    .replace(CSS_URL, (_match, double?: string, single?: string, bare?: string) => {
      const target = rewrite(double ?? single ?? bare ?? '');
      return target ? `url(${quoted(target)})` : REFUSED_CSS_URL;
    });
}
