import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { AppError } from '../lib/errors.ts';
import type { KassaApp } from '../http/http.types.ts';
import type { Metrics } from './metrics.ts';

/**
 * Where `/metrics` is served (docs/operations.md#monitoring):
 * - on the main port when `KASSA_METRICS_TOKEN` is set, to requests bearing `Authorization: Bearer <token>`
 *   (anything else: a 401 problem document);
 * - on a listener of its own when `KASSA_METRICS_PORT` is set (bound to HOST, for a scraper on a private
 *   network; it asks for the token too when one is set);
 * - nowhere otherwise (the main port answers 404, as for any unknown path).
 */

const IDEMPOTENCY_CONFLICT_CODES = new Set(['idempotency_key_in_use', 'idempotency_key_reused']);

/** Whether `header` is `Bearer <token>`. Both sides are hashed first, so the comparison is constant-time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+)\s*$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

/** Times every request by route template and counts idempotency conflicts; serves `/metrics` when a token is set. */
export function registerMetrics(app: KassaApp, deps: { metrics: Metrics; token: string | undefined }): void {
  const { metrics, token } = deps;
  // A callback hook, not an async one: it runs after every request, and an async hook costs a promise each time.
  app.addHook('onResponse', (request, reply, done) => {
    // The route template (`/pay/:checkoutId/:signature`), never the URL: URLs carry signatures and ids.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.addHook('onError', async (_request, _reply, error) => {
    if (error instanceof AppError && IDEMPOTENCY_CONFLICT_CODES.has(error.code))
      metrics.idempotencyConflicts.inc({ code: error.code });
  });
  if (token === undefined) return;
  app.get('/metrics', { schema: { hide: true }, config: { auth: 'public' } }, async (request, reply) => {
    if (!bearerMatches(request.headers.authorization, token)) {
      throw new AppError('authentication_required', 'Send "Authorization: Bearer <KASSA_METRICS_TOKEN>"', {
        headers: { 'www-authenticate': 'Bearer realm="kassa-metrics"' },
      });
    }
    reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });
}

/** The `KASSA_METRICS_PORT` listener: `GET /metrics` only. Resolves once it listens. */
export async function startMetricsListener(options: {
  metrics: Metrics;
  host: string;
  port: number;
  token: string | undefined;
}): Promise<{ port: number; close(): Promise<void> }> {
  const { metrics, token } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
      response
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="kassa-metrics"' })
        .end('Unauthorized\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        response.writeHead(200, {
          'content-type': metrics.registry.contentType,
          'cache-control': 'no-store',
        });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('Metrics collection failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
