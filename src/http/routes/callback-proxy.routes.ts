import { z } from 'zod';
import { proxiedResourceHeaders } from '../../modules/callbacks/callback-page-security.ts';
import { CALLBACK_PROXY_PATH, verifyProxySignature } from '../../modules/callbacks/callback-proxy-url.ts';
import type { CallbackService } from '../../modules/callbacks/callback.service.ts';
import type { Keyring } from '../../lib/keyring.ts';
import type { KassaApp } from '../http.types.ts';

/**
 * `GET /callback-proxy/{signature}?url={http URL}` — the `http:` images and stylesheets of a merchant's callback
 * page, served from Kassa's origin (the callbacks flow: "all HTTP resources are proxied"), so the page needs no mixed
 * content and its CSP can stay `img-src https: data: 'self'`.
 *
 * Only URLs Kassa signed while rewriting a callback page are fetched (a wrong or missing signature is a 404,
 * before any request leaves); the fetch goes through egress (no private targets in production, no redirects
 * followed), is capped at 2 MiB, and only images and stylesheets are forwarded — as the declared type, never
 * sniffed, with a sandboxing CSP in case one is opened directly. Everything else is a bodiless 502.
 */

const ZParams = z.object({ signature: z.string().max(64) });
const ZQuery = z.object({ url: z.string().max(4096) });

export function registerCallbackProxyRoutes(
  app: KassaApp,
  services: { keyring: Keyring; callbacks: Pick<CallbackService, 'fetchProxiedResource'> },
) {
  app.get(
    `${CALLBACK_PROXY_PATH}/:signature`,
    {
      config: { auth: 'public' },
      schema: { hide: true, params: ZParams, querystring: ZQuery },
    },
    async (request, reply) => {
      const { signature } = request.params;
      const { url } = request.query;
      reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
      if (!verifyProxySignature(services.keyring, url, signature)) return reply.code(404).send();
      const resource = await services.callbacks.fetchProxiedResource(url);
      if (!resource.ok) {
        request.log.info({ reason: resource.reason }, 'callback proxy refused a resource');
        return reply.code(resource.status).send();
      }
      return reply.code(200).headers(proxiedResourceHeaders(resource.contentType)).send(resource.body);
    },
  );
}
