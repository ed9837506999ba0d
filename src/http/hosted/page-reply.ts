import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import { sendProblem } from '../plugins/problem-reply.ts';
import { createCspNonce, setPageSecurityHeaders } from '../pages/page-security.ts';
import { renderStatusPage } from '../pages/status-page.ts';

/**
 * How every hosted page leaves: a fresh CSP nonce per response, the page security headers (strict CSP,
 * frame-ancestors 'none', no-store, nosniff, …) and HTML. `formActionOrigins` are the merchant origins a form
 * on the page may end up at through redirects (Chrome applies form-action to the redirect after a POST).
 */

export const ASSET_BASE = '/public';

export function sendPage(
  reply: FastifyReply,
  statusCode: number,
  /** The page's HTML, as a string or already as UTF-8 bytes (`pages/page-template-cache.ts`). */
  render: (nonce: string) => string | Buffer,
  formActionOrigins: readonly string[] = [],
): FastifyReply {
  const nonce = createCspNonce();
  const body = render(nonce);
  reply.code(statusCode);
  setPageSecurityHeaders(reply, nonce, { formActionOrigins });
  return reply.type('text/html; charset=utf-8').send(body);
}

/**
 * Which of the two answers a page route can give — an HTML page or a problem document — the request's Accept
 * header asks for: the one of `text/html` / `application/xhtml+xml` and `application/json` /
 * `application/problem+json` it rates higher (HTML on a tie); undefined when it names neither (no header,
 * `*\/*`), where each caller keeps its default.
 */
export function acceptedAnswer(request: FastifyRequest): 'html' | 'problem' | undefined {
  const accept = request.headers.accept;
  if (typeof accept !== 'string') return undefined;
  let html = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const quality = parameters.find((parameter) => parameter.startsWith('q='));
    const q = quality === undefined ? 1 : Number(quality.slice(2));
    if (!(q >= 0 && q <= 1)) continue;
    if (type === 'text/html' || type === 'application/xhtml+xml') html = Math.max(html, q);
    else if (type === 'application/json' || type === 'application/problem+json') json = Math.max(json, q);
  }
  if (html === 0 && json === 0) return undefined;
  return html >= json ? 'html' : 'problem';
}

/**
 * What a 404 page says for a path: a checkout URL (`/pay/…`) that is unknown, cut short or tampered with is
 * "this checkout link is not valid", a payment link (`/l/…`) "this payment link is not valid", anything else
 * "page not found".
 */
export function notFoundKind(path: string): 'invalid_checkout' | 'invalid_payment_link' | 'not_found' {
  if (/^\/pay(\/|$)/.test(path)) return 'invalid_checkout';
  if (/^\/l(\/|$)/.test(path)) return 'invalid_payment_link';
  return 'not_found';
}

/**
 * One 404 page for an unknown checkout, a wrong signature and an unknown sandbox reference alike, so a
 * response never tells which part of a guessed link was wrong. Carries no merchant's branding; speaks the
 * shopper's Accept-Language. A client that asks for JSON gets the same answer as a problem document
 * (`not_found`).
 */
export function sendNotFoundPage(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (acceptedAnswer(request) === 'problem') {
    return sendProblem(request, reply, new AppError('not_found', 'No such page'));
  }
  const acceptLanguage = request.headers['accept-language'];
  return sendPage(reply, 404, (nonce) =>
    renderStatusPage({
      kind: notFoundKind(request.url.split('?')[0] ?? ''),
      locale: null,
      ...(typeof acceptLanguage === 'string' ? { localeHints: { acceptLanguage } } : {}),
      nonce,
      assetBase: ASSET_BASE,
      livemode: true,
      merchant: { displayName: 'Kassa' },
    }),
  );
}

/** The origins of the merchant URLs a checkout's forms may redirect to; malformed URLs are left out. */
export function redirectOrigins(urls: readonly string[]): string[] {
  const origins: string[] = [];
  for (const url of urls) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'https:' || parsed.protocol === 'http:') origins.push(parsed.origin);
    } catch {
      // validated at registration; an unparsable one simply gets no form-action entry
    }
  }
  return origins;
}
