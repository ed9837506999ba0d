import { EgressError, type EgressResponse } from '../../egress/index.ts';
import { checkRedirectUrl } from '../../lib/merchant-urls.ts';
import { sanitizeCallbackHtml } from './callback-html.ts';
import type { CallbackResult } from './callback.types.ts';

/**
 * Reading a merchant's answer to a callback: its media type and charset, the excerpt kept for the timeline,
 * its plain text (verify_order's reason), and what an ok / fail / open answer means for the shopper
 * (sanitised HTML, a checked redirect, or Kassa's error page with the reason).
 */

/** The largest callback page Kassa serves; a bigger answer is an error (a cut page would be broken). */
export const CALLBACK_HTML_MAX_BYTES = 1024 * 1024;
/** What is kept of an answer for the timeline. */
export const RESPONSE_EXCERPT_BYTES = 4096;
/** What verify_order's answer may show the shopper (characters, not bytes). */
export const VERIFY_ORDER_REASON_MAX_CHARS = 255;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

/**
 * A 2xx from a target production refuses (a loopback service in development): its page is not shown, the
 * shopper sees Kassa's error page with this reason (docs/callbacks.md).
 */
const UNDISCLOSED_REASON = (status: number) =>
  `HTTP ${status} from an address production refuses (e.g. loopback); the page is not shown. ` +
  'Allow-list the address (KASSA_EGRESS_ALLOW_LIST) to see it in development';

/** One request and what came of it; `startedAt` (the clock's) is when the attempt is shown on the timeline. */
export type Exchange = { startedAt: Date; durationMs: number } & (
  | { response: EgressResponse; /** May its body be shown? See `mayDiscloseResponse`. */ disclose: boolean }
  | { error: string }
);

export function mediaTypeOf(headers: Record<string, string>): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The charset of the Content-Type header, else of a `<meta charset>` in the first KiB, else UTF-8. */
function charsetOf(headers: Record<string, string>, body: Buffer): string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)/i.exec(headers['content-type'] ?? '')?.[1];
  if (fromHeader) return fromHeader;
  const head = body.subarray(0, 1024).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1] ?? 'utf-8';
}

export function decodeBody(headers: Record<string, string>, body: Buffer): string {
  try {
    return new TextDecoder(charsetOf(headers, body)).decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body); // an unknown charset label
  }
}

export function excerptOf(body: Buffer): string | null {
  if (body.length === 0) return null;
  // Postgres text cannot hold NUL; the excerpt is for people.
  return body.subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8').replaceAll('\u0000', '');
}

export function describeEgressError(error: unknown): string {
  return error instanceof EgressError ? `${error.kind}: ${error.message}` : 'The request failed unexpectedly';
}

const TEXT_ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** An answer as one line of plain text: tags stripped (for HTML answers), white space collapsed. */
export function plainTextOf(text: string, mediaType: string): string {
  const withoutTags = HTML_TYPES.has(mediaType)
    ? text
        .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
        .replace(/<[^>]*>/g, ' ')
        .replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => TEXT_ENTITIES[entity] ?? entity)
    : text;
  return withoutTags.replace(/\s+/g, ' ').trim();
}

/** The first `max` characters (code points, so a surrogate pair is never cut). */
export function firstCharacters(text: string, max: number): string {
  return Array.from(text).slice(0, max).join('');
}

/** What an ok / fail / open answer means for the shopper. */
export function interpretShopperAnswer(
  exchange: Exchange,
  callbackUrl: string,
  livemode: boolean,
  proxy: (httpUrl: string) => string,
): CallbackResult {
  if ('error' in exchange) return { type: 'error', reason: exchange.error };
  const { response } = exchange;
  const { status } = response;
  if (status >= 200 && status < 300) {
    if (!exchange.disclose) return { type: 'error', reason: UNDISCLOSED_REASON(status) };
    const mediaType = mediaTypeOf(response.headers);
    if (!HTML_TYPES.has(mediaType)) {
      return {
        type: 'error',
        reason: `HTTP ${status} with content type "${mediaType || 'none'}"; a callback page must be text/html (or a redirect)`,
      };
    }
    if (response.truncated) {
      return { type: 'error', reason: `The page is larger than ${CALLBACK_HTML_MAX_BYTES} bytes` };
    }
    const page = sanitizeCallbackHtml(decodeBody(response.headers, response.body), {
      pageUrl: callbackUrl,
      proxy,
    });
    return { type: 'html', html: page.html, callbackUrl, formOrigins: page.formOrigins };
  }
  if (REDIRECT_STATUSES.has(status)) {
    const location = response.headers.location;
    if (!location) return { type: 'error', reason: `HTTP ${status} without a Location header` };
    let absolute: string;
    try {
      absolute = new URL(location, callbackUrl).href;
    } catch {
      return { type: 'error', reason: `HTTP ${status} with a Location that is not a URL` };
    }
    // The shopper's browser goes there: the same rules as the merchant's redirect URLs.
    const refusal = checkRedirectUrl(absolute, { livemode });
    if (refusal) return { type: 'error', reason: `HTTP ${status}: the Location ${refusal}` };
    return { type: 'redirect', location: absolute };
  }
  return { type: 'error', reason: `HTTP ${status}` };
}
