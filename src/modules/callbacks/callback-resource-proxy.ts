import type { EgressResponse } from '../../egress/index.ts';
import { describeEgressError, decodeBody, mediaTypeOf } from './callback-answer.ts';
import type { CallbackExchange, CallbackServiceDeps } from './callback-exchange.ts';
import { rewriteCssUrls, rewriteResourceUrl } from './callback-html-urls.ts';

/**
 * The images and stylesheets a merchant's callback page loads over plain `http:`, fetched for the callback
 * proxy (an https page cannot load them itself): only what may be disclosed, only images and CSS, bounded.
 */

/** The largest image or stylesheet the proxy forwards. */
export const PROXY_MAX_BYTES = 2 * 1024 * 1024;

/** Raster formats and SVG (served as an image with a sandboxing CSP, never as a document that runs). */
const PROXY_IMAGE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'image/svg+xml',
]);

export type ProxiedResource =
  { ok: true; contentType: string; body: Buffer } | { ok: false; status: 404 | 502; reason: string };

export function createCallbackResourceProxy(
  deps: Pick<CallbackServiceDeps, 'egress'>,
  exchange: CallbackExchange,
) {
  const { egress } = deps;
  const { proxy, mayDisclose } = exchange;

  /**
   * Fetches an `http:` image or stylesheet for the proxy (the URL's signature was checked by the caller).
   * Stylesheets get their own URLs rewritten (relative to the stylesheet), so their http resources are
   * proxied too.
   */
  async function fetchProxiedResource(url: string): Promise<ProxiedResource> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, status: 404, reason: 'not a URL' };
    }
    if (parsed.protocol !== 'http:')
      return { ok: false, status: 404, reason: 'only http: resources are proxied' };
    if (!(await mayDisclose(parsed.href))) {
      return {
        ok: false,
        status: 404,
        reason: 'the address is refused in production; its content is not shown',
      };
    }
    let response: EgressResponse;
    try {
      response = await egress.request({
        url: parsed,
        method: 'GET',
        headers: { accept: 'image/*,text/css;q=0.9' },
        maxResponseBytes: PROXY_MAX_BYTES,
      });
    } catch (error) {
      return { ok: false, status: 502, reason: describeEgressError(error) };
    }
    if (response.status !== 200) return { ok: false, status: 502, reason: `HTTP ${response.status}` };
    if (response.truncated) return { ok: false, status: 502, reason: `larger than ${PROXY_MAX_BYTES} bytes` };
    const mediaType = mediaTypeOf(response.headers);
    if (PROXY_IMAGE_TYPES.has(mediaType)) return { ok: true, contentType: mediaType, body: response.body };
    if (mediaType === 'text/css') {
      const css = rewriteCssUrls(decodeBody(response.headers, response.body), (raw) =>
        rewriteResourceUrl(raw, parsed.href, proxy),
      );
      return { ok: true, contentType: 'text/css; charset=utf-8', body: Buffer.from(css, 'utf8') };
    }
    return {
      ok: false,
      status: 502,
      reason: `content type "${mediaType || 'none'}" is not an image or a stylesheet`,
    };
  }

  return { fetchProxiedResource };
}
