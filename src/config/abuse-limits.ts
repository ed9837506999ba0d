import { isIP } from 'node:net';
import { z } from 'zod';
import type { AttemptLimitsConfig } from '../modules/payments/attempt-limits.ts';
import { booleanFlag, ConfigError, documented, type Environment } from './variables.ts';

/** Abuse limits: whom to trust for the client's address, per-credential request limits, card testing, shedding. */

export const abuseLimitVariables = {
  KASSA_TRUST_PROXY: documented(z.string().optional(), {
    description:
      "who may name the client's address in `X-Forwarded-For`: `off` (the TCP peer is the client), a number of proxy hops, or a comma list of addresses, CIDRs and `loopback` / `linklocal` / `uniquelocal`; every per-address limit uses the result ([docs/operations.md](docs/operations.md#behind-a-reverse-proxy))",
    defaultText: '`off` (`loopback` in production)',
  }),
  KASSA_RATE_LIMIT_REQUESTS: documented(z.coerce.number().int().min(0).default(0), {
    description:
      'requests each credential (API key, OAuth client, checkout client token) may make per window, counted in PostgreSQL across processes; answers carry `RateLimit-Limit` / `-Remaining` / `-Reset` / `-Policy`, and over it a 429 `rate_limited` with `Retry-After` ([docs/security.md](docs/security.md#abuse-limits-and-pages))',
    defaultText: '`0` (off)',
  }),
  KASSA_RATE_LIMIT_WINDOW_SECONDS: documented(z.coerce.number().int().min(1).max(3_600).default(60), {
    description: 'the window of `KASSA_RATE_LIMIT_REQUESTS`',
  }),
  KASSA_CARD_DECLINES_PER_CHECKOUT: documented(z.coerce.number().int().min(0).max(1_000).default(5), {
    description:
      'declined payment attempts a checkout may have; the one that reaches it cancels the checkout (`cancellation_reason: "too_many_declines"`, event `checkout.canceled`). `0`: no limit ([docs/security.md](docs/security.md#card-testing))',
  }),
  KASSA_CARD_DECLINES_PER_ADDRESS: documented(z.coerce.number().int().min(0).default(30), {
    description:
      "declined payment attempts per shopper address (the hosted page's client, see `KASSA_TRUST_PROXY`) per window, across every process and (in live mode) every merchant; over it 429 `too_many_attempts` + `Retry-After`. `0`: no limit",
  }),
  KASSA_CARD_DECLINES_PER_CARD: documented(z.coerce.number().int().min(0).default(10), {
    description:
      'declined payment attempts per card (its keyed fingerprint) per window, across every process and (in live mode) every merchant, on the hosted page, payment links and `POST /v1/payments`; over it 429 `too_many_attempts`. `0`: no limit',
  }),
  KASSA_CARD_DECLINE_WINDOW_SECONDS: documented(z.coerce.number().int().min(1).max(86_400).default(3_600), {
    description:
      'the window of `KASSA_CARD_DECLINES_PER_ADDRESS` and `KASSA_CARD_DECLINES_PER_CARD`, fixed from the first decline',
  }),
  KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE: documented(booleanFlag.default(false), {
    description:
      'count `KASSA_CARD_DECLINES_PER_ADDRESS` and `KASSA_CARD_DECLINES_PER_CARD` in test mode too (per merchant). Off: test cards decline as often as an integration test needs, as at Stripe and Adyen; live mode always counts ([docs/security.md](docs/security.md#card-testing))',
  }),
  KASSA_SHED_EVENT_LOOP_DELAY_MS: documented(z.coerce.number().int().min(0).max(60_000).default(0), {
    description:
      'answer new requests `503 service_unavailable` + `Retry-After` at once while the event loop lags more than this',
    defaultText: '`0` (off)',
  }),
  KASSA_SHED_POOL_WAITING: documented(z.coerce.number().int().min(0).default(0), {
    description:
      'the same while at least this many queries wait for a database connection (compare `KASSA_DB_POOL_MAX`)',
    defaultText: '`0` (off)',
  }),
  KASSA_SHED_RETRY_AFTER_SECONDS: documented(z.coerce.number().int().min(1).max(3_600).default(2), {
    description: '`Retry-After` of a shed request',
  }),
};

/**
 * Which peers may tell Kassa the client's address in `X-Forwarded-For` (Fastify's `trustProxy`): `false` (the
 * TCP peer is the client), a number of proxy hops, or addresses / CIDRs / the names `loopback`, `linklocal`,
 * `uniquelocal`. Every per-address limit uses the address this yields (`request.ip`).
 */
export type TrustProxy = false | number | string[];

/** Per-credential request limits and load shedding (src/http/plugins/rate-limit.ts); 0 = off. */
export type RequestLimitsConfig = {
  /** Requests per window per credential (API key, OAuth client, checkout client token); 0: no limit. */
  requestsPerWindow: number;
  windowSeconds: number;
  /** Shed new requests (503) while the event loop lags more than this; 0: never. */
  shedEventLoopDelayMs: number;
  /** Shed new requests (503) while at least this many queries wait for a pool connection; 0: never. */
  shedPoolWaiting: number;
  shedRetryAfterSeconds: number;
};

export type AbuseLimitsConfig = {
  trustProxy: TrustProxy;
  requestLimits: RequestLimitsConfig;
  /** Card-testing limits (src/modules/payments/attempt-limits.ts). */
  attemptLimits: AttemptLimitsConfig;
};

const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * `KASSA_TRUST_PROXY`: `off` | a hop count | a comma list of addresses, CIDRs and range names. Default: `off`
 * in development and test; `loopback` in production (a reverse proxy on the same host — what production did
 * before the setting existed; only a process on the host itself could forge the header).
 */
export function parseTrustProxy(raw: string | undefined, environment: Environment): TrustProxy {
  if (raw === undefined) return environment === 'production' ? ['loopback'] : false;
  const value = raw.trim().toLowerCase();
  if (['off', 'false', 'no', '0', 'none'].includes(value)) return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 20)
      throw new ConfigError('Invalid configuration:\n  KASSA_TRUST_PROXY: at most 20 proxy hops');
    return hops;
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (PROXY_RANGE_NAMES.has(entry)) continue;
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address ?? '');
    const maxPrefix = family === 4 ? 32 : 128;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix);
    if (family === 0 || !validPrefix || rest.length > 0) {
      throw new ConfigError(
        `Invalid configuration:\n  KASSA_TRUST_PROXY: "${entry}" is not an address, a CIDR, loopback, linklocal or ` +
          'uniquelocal (or use off, or a hop count)',
      );
    }
  }
  if (entries.length === 0) return false;
  return entries;
}
