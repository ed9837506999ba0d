import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KassaApp } from '../../http.types.ts';
import { addRouteHook } from '../../plugins/route-hooks.ts';

/**
 * The routes a merchant's page may call from its own origin with a checkout's client token. CORS is granted
 * to these only, with `Access-Control-Allow-Origin: *`: the client token in the Authorization header is the
 * credential (no cookies are involved, so no origin needs to be trusted), and a merchant's landing page can be
 * on any origin. Answers to requests made with merchant credentials carry no CORS header, so a browser never
 * hands them to another origin; every other route stays same-origin.
 */
export const SDK_CORS_ROUTES = ['/v1/checkouts/:id/payment-methods', '/v1/checkouts/:id/session'] as const;
const SDK_CORS_MAX_AGE_SECONDS = 600;

export function registerSdkCors(app: KassaApp) {
  for (const url of SDK_CORS_ROUTES) {
    app.options(url, { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', 'GET, OPTIONS')
        .header('access-control-allow-headers', 'Authorization')
        .header('access-control-max-age', String(SDK_CORS_MAX_AGE_SECONDS))
        .send(),
    );
  }

  // Attached to the CORS routes only (src/http/plugins/route-hooks.ts), as they are registered: no other
  // response runs this hook. Registered before those routes; the app does not start if one was missed.
  const corsRoutes = new Set<string>(SDK_CORS_ROUTES);
  const attached = new Set<string>();
  const exposeToOtherOrigins = (
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (error: null, payload: unknown) => void,
  ) => {
    if (!request.merchant) {
      reply.header('access-control-allow-origin', '*');
      reply.header('access-control-expose-headers', 'x-request-id');
    }
    done(null, payload);
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!corsRoutes.has(route.url) || methods.includes('OPTIONS')) return;
    addRouteHook(route, 'onSend', exposeToOtherOrigins);
    attached.add(route.url);
  });
  app.addHook('onReady', (done) => {
    const missed = SDK_CORS_ROUTES.filter((url) => !attached.has(url));
    done(missed.length > 0 ? new Error(`SDK CORS not attached to ${missed.join(', ')}`) : undefined);
  });
}
