import type { FastifyReply, FastifyRequest } from 'fastify';
import { createCspNonce, pageSecurityHeaders } from '../pages/page-security.ts';
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
  render: (nonce: string) => string,
  formActionOrigins: readonly string[] = [],
): FastifyReply {
  const nonce = createCspNonce();
  const body = render(nonce);
  return reply
    .code(statusCode)
    .headers(pageSecurityHeaders(nonce, { formActionOrigins }))
    .type('text/html; charset=utf-8')
    .send(body);
}

/** The shopper's preferred language from Accept-Language, for pages that belong to no checkout. */
export function requestLocale(request: FastifyRequest): string {
  const header = request.headers['accept-language'];
  const first = (typeof header === 'string' ? header : '').split(',')[0]?.split(';')[0]?.trim();
  return first && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(first) ? first : 'EN';
}

/**
 * One 404 page for an unknown checkout, a wrong signature and an unknown sandbox reference alike, so a
 * response never tells which part of a guessed link was wrong. Carries no merchant's branding.
 */
export function sendNotFoundPage(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPage(reply, 404, (nonce) =>
    renderStatusPage({
      kind: 'not_found',
      locale: requestLocale(request),
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
