import underPressure from '@fastify/under-pressure';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { RequestLimitsConfig } from '../../config.ts';
import { AppError } from '../../lib/errors.ts';
import type { KassaApp } from '../http.types.ts';
import { addAuthenticatedRouteHook } from './route-hooks.ts';

/**
 * Abuse limits on the whole API (docs/security.md, "Abuse limits and pages"), both off unless configured
 * (config.ts `RequestLimitsConfig`), so that `npm run bench` — whose closed loops saturate the pool on
 * purpose — sees no refusal:
 *
 * - **Per-credential request limit**: every request authenticated by an API key, an OAuth client (all its
 *   access tokens together) or a checkout's client token counts against that credential, in a fixed window,
 *   in PostgreSQL (rate-limiter-flexible's store: one atomic upsert per request) so every gateway process
 *   shares the count — an in-process limiter would let N processes allow N times the limit. Answers carry
 *   `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy` (the IETF
 *   RateLimit header fields draft); over the limit, a 429 `rate_limited` problem with `Retry-After`. If the
 *   store cannot be reached the request is let through: the limit protects capacity, and a database that
 *   does not answer already fails the request with a 503.
 * - **Load shedding** (`@fastify/under-pressure`): when the event loop lags more than the configured delay,
 *   or more than the configured number of queries wait for a database connection, new requests get a 503
 *   `service_unavailable` problem with `Retry-After` at once, instead of queueing until they time out.
 */

function credentialKey(request: FastifyRequest): string | undefined {
  if (request.merchant) return `${request.merchant.credential.kind}:${request.merchant.credential.id}`;
  if (request.clientToken) return `client_token:${request.clientToken.checkoutId}`;
  return undefined;
}

/** Registered after authentication: its hook counts against the credential authentication found. */
export function registerCredentialLimits(
  app: KassaApp,
  deps: { pool: pg.Pool; limits: RequestLimitsConfig },
) {
  const { pool, limits } = deps;
  if (limits.requestsPerWindow <= 0) return;
  const points = limits.requestsPerWindow;
  const windowSeconds = limits.windowSeconds;
  const limiter = new RateLimiterPostgres({
    storeClient: pool,
    storeType: 'pool',
    tableName: 'request_rate_limits',
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: 'credential',
    points,
    duration: windowSeconds,
  });
  const policy = `${points};w=${windowSeconds}`;
  const headersOf = (res: RateLimiterRes) => ({
    'RateLimit-Limit': String(points),
    'RateLimit-Remaining': String(Math.max(0, res.remainingPoints)),
    'RateLimit-Reset': String(Math.max(0, Math.ceil(res.msBeforeNext / 1000))),
    'RateLimit-Policy': policy,
  });

  // Only authenticated routes have a credential to count: the hook is attached to those (after their
  // authentication hook, whose onRoute hook is registered before this one), and a public route runs none.
  const limit = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = credentialKey(request);
    if (key === undefined) return;
    let res: RateLimiterRes;
    try {
      res = await limiter.consume(key);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) {
        request.log.warn({ err: refusal }, 'request limit store unavailable; request let through');
        return;
      }
      const headers = headersOf(refusal);
      throw new AppError(
        'rate_limited',
        `This credential may make ${points} requests per ${windowSeconds} s; retry after ${headers['RateLimit-Reset']} s`,
        { headers: { ...headers, 'Retry-After': String(Math.max(1, Number(headers['RateLimit-Reset']))) } },
      );
    }
    reply.headers(headersOf(res));
  };
  addAuthenticatedRouteHook(app, 'onRequest', limit);
}

/**
 * Registered before authentication, whose lookups need a database connection: a request that is shed must
 * not first wait for the pool it is shed because of.
 */
export async function registerLoadShedding(
  app: KassaApp,
  deps: { pool: pg.Pool; limits: RequestLimitsConfig },
): Promise<void> {
  const { pool, limits } = deps;
  if (limits.shedEventLoopDelayMs <= 0 && limits.shedPoolWaiting <= 0) return;
  const retryAfter = String(limits.shedRetryAfterSeconds);
  await app.register(underPressure, {
    maxEventLoopDelay: limits.shedEventLoopDelayMs,
    // Sampled often, so a stall is noticed within a tenth of a second rather than the default second.
    sampleInterval: 100,
    ...(limits.shedPoolWaiting > 0
      ? {
          healthCheck: async () => pool.waitingCount < limits.shedPoolWaiting,
          healthCheckInterval: 50,
        }
      : {}),
    retryAfter: limits.shedRetryAfterSeconds,
    // The usual problem document (through the error handler) rather than the plugin's own body.
    pressureHandler: async (_request, _reply, type) => {
      throw new AppError(
        'service_unavailable',
        type === 'healthCheck'
          ? 'The gateway is waiting on its database; retry shortly.'
          : 'The gateway is overloaded; retry shortly.',
        { headers: { 'Retry-After': retryAfter } },
      );
    },
  });
}
