/**
 * Validation of URLs a merchant hands us: where to send the shopper's browser (redirect URLs) and where
 * Kassa's servers post results (callback URLs).
 *
 * Merchant URLs are untrusted (house rule 7). Two checks guard each one, because either alone is too lenient:
 * - a strict look at the raw string, since the WHATWG parser repairs a lot on purpose — it turns `https:host`,
 *   `https:/host` and `https:\\host` into `https://host/`, strips tabs and newlines, and accepts `//host` or
 *   `/path` relative to a base — and what a browser or a log viewer makes of such a string is not what we
 *   checked;
 * - the WHATWG parse itself, which is what `fetch`, `Location` headers and browsers will act on.
 * Both must agree before a URL is stored. Which hosts may be *contacted* (no private or loopback addresses in
 * production) is decided at send time by `egress/`, after DNS resolution; nothing here resolves names.
 */

export const MAX_MERCHANT_URL_LENGTH = 2048;

export type MerchantUrlOptions = {
  /** Live mode accepts `https://` only; test mode also accepts `http://` (a shop on a laptop). */
  livemode: boolean;
};

/**
 * C0 controls (which include tab, CR and LF), space, DEL, C1 controls, backslash, any other Unicode white
 * space, and invisible or direction-changing characters (zero-width, bidi overrides) that can make a URL read
 * differently from what it is.
 */
const FORBIDDEN_CHARACTER =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0020\u007F-\u009F\\\s\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/u;

function describeCharacter(char: string): string {
  const codePoint = char.codePointAt(0) ?? 0;
  const names: Record<number, string> = {
    0x09: 'a tab',
    0x0a: 'a line feed',
    0x0d: 'a carriage return',
    0x20: 'a space',
    0x5c: 'a backslash',
  };
  return names[codePoint] ?? `the character U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

type UrlKind = 'redirect' | 'callback';

function checkMerchantUrl(value: string, options: MerchantUrlOptions, kind: UrlKind): string | null {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_MERCHANT_URL_LENGTH) {
    return `must be at most ${MAX_MERCHANT_URL_LENGTH} characters long, got ${value.length}`;
  }
  const forbidden = FORBIDDEN_CHARACTER.exec(value);
  if (forbidden) {
    return `must not contain ${describeCharacter(forbidden[0])} (at position ${forbidden.index}); percent-encode it`;
  }

  // The scheme is compared case-insensitively (RFC 3986 §3.1) but must be followed by `//` in the raw string.
  const schemeMatch = /^(https?):\/\//i.exec(value);
  if (schemeMatch === null) {
    return options.livemode
      ? 'must be an absolute URL starting with https://'
      : 'must be an absolute URL starting with https:// (or http:// in test mode)';
  }
  const scheme = value.slice(0, schemeMatch[0].length - 3).toLowerCase();
  if (scheme === 'http' && options.livemode)
    return 'must use https:// in live mode (http:// is accepted in test mode only)';

  // The authority is what sits between `//` and the first `/`, `?` or `#` of the raw string.
  const rest = value.slice(schemeMatch[0].length);
  const authority = rest.split(/[/?#]/, 1)[0] ?? '';
  if (authority.length === 0) return 'must name a host after the scheme (e.g. https://shop.example/)';
  if (authority.includes('@')) return 'must not contain credentials (user:password@host)';

  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return 'is not a valid URL';
  }
  // Defence in depth: the parse must agree with the raw checks above.
  if (parsed.protocol !== `${scheme}:`) return 'is not a valid URL';
  if (parsed.username !== '' || parsed.password !== '')
    return 'must not contain credentials (user:password@host)';
  if (parsed.hostname === '') return 'must name a host after the scheme (e.g. https://shop.example/)';

  if (kind === 'callback' && value.includes('#')) {
    return 'must not contain a fragment (#…): a server-to-server request never sends it';
  }
  return null;
}

/**
 * Checks a URL the shopper's browser is sent to (`completed_redirect_url`, `canceled_redirect_url`, a payment
 * link's return URL). Returns null when acceptable, otherwise a reason that completes "<field> …", e.g.
 * "must not contain credentials (user:password@host)". A fragment is allowed: single-page shops route by it.
 */
export function checkRedirectUrl(value: string, options: MerchantUrlOptions): string | null {
  return checkMerchantUrl(value, options, 'redirect');
}

/**
 * Checks a URL Kassa's servers call (`callbacks.ok`, `fail`, `open`, `notification`, `verify_order`,
 * webhook endpoints). Same rules as redirect URLs, and no fragment.
 */
export function checkCallbackUrl(value: string, options: MerchantUrlOptions): string | null {
  return checkMerchantUrl(value, options, 'callback');
}

/**
 * Adds `params` to the query of `url`, before any fragment (`https://shop/#/done` →
 * `https://shop/?status=PAID#/done`). The merchant's own parameters are kept byte for byte, in order; a
 * parameter with the same name as one of `params` is replaced, so what we add (an id, a status, a signature)
 * cannot be shadowed by an earlier value the merchant's framework might read first. Throws for an invalid URL.
 */
export function appendQueryParams(url: string, params: Record<string, string>): string {
  const href = new URL(url).href;
  // In a serialised URL the first `#` starts the fragment and the first `?` before it starts the query.
  const hashIndex = href.indexOf('#');
  const beforeFragment = hashIndex === -1 ? href : href.slice(0, hashIndex);
  const fragment = hashIndex === -1 ? '' : href.slice(hashIndex);
  const queryIndex = beforeFragment.indexOf('?');
  const base = queryIndex === -1 ? beforeFragment : beforeFragment.slice(0, queryIndex);
  const query = queryIndex === -1 ? '' : beforeFragment.slice(queryIndex + 1);

  const replaced = new Set(Object.keys(params));
  const kept = query.split('&').filter((pair) => pair !== '' && !replaced.has(decodeParamName(pair)));
  const added = Object.entries(params).map(
    ([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`,
  );
  const pairs = [...kept, ...added];
  return `${base}${pairs.length > 0 ? `?${pairs.join('&')}` : ''}${fragment}`;
}

/** The decoded name of one `name=value` pair, as `URLSearchParams` (and so most servers) would read it. */
function decodeParamName(pair: string): string {
  const first = new URLSearchParams(pair).keys().next();
  return first.done ? '' : first.value;
}
