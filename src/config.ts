import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from './outbox/retry-schedule.ts';
import type { SandboxFaults } from './connectors/sandbox/sandbox.connector.ts';

/**
 * One validated read of the environment. Everything configurable lives here; nothing else reads
 * `process.env`. No `DATABASE_URL` means the embedded PostgreSQL server under `KASSA_DATA_DIR`.
 */

const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().optional(),
  KASSA_PUBLIC_URL: z.url().optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
    .optional(),
  KASSA_DATA_DIR: z.string().default('./.kassa'),
  KASSA_ALLOW_EMBEDDED_DB: booleanFlag.default(false),
  KASSA_ENV: z.enum(['development', 'production', 'test']).optional(),
  NODE_ENV: z.string().optional(),
  KASSA_MASTER_KEY: z.string().optional(),
  KASSA_JWT_PRIVATE_KEY: z.string().optional(),
  KASSA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KASSA_DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  KASSA_EGRESS_ALLOW_LIST: z.string().default(''),
  KASSA_WORKERS: booleanFlag.default(true),
  KASSA_DEMO: booleanFlag.optional(),
  KASSA_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(1800),
  KASSA_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  KASSA_WEBHOOK_RETRY_SCHEDULE: z.string().optional(),
  KASSA_WEBHOOK_LEASE_SECONDS: z.coerce.number().min(1).max(3_600).default(60),
  KASSA_CALLBACK_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(7_000),
  KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(28_000),
  KASSA_PAYMENT_RECOVERY_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  KASSA_SANDBOX_FAULTS: z.string().optional(),
  // Abuse limits (proxy trust, request limits, load shedding): one block, read by `abuseLimitsOf`.
  KASSA_TRUST_PROXY: z.string().optional(),
  KASSA_RATE_LIMIT_REQUESTS: z.coerce.number().int().min(0).default(0),
  KASSA_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  KASSA_SHED_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  KASSA_SHED_POOL_WAITING: z.coerce.number().int().min(0).default(0),
  KASSA_SHED_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3_600).default(2),
});

// Simulated acquirer faults (SandboxFaults) for fault tests and local experiments; refused in production.
const SandboxFaultsSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  responseDelayMs: z.number().int().min(0).max(120_000).optional(),
  failEveryNth: z.number().int().min(1).optional(),
  timeoutMs: z.number().int().min(0).max(120_000).optional(),
  timeoutEveryNth: z.number().int().min(1).optional(),
  duplicateNotifications: z.boolean().optional(),
  failRate: z.number().min(0).max(1).optional(),
  timeoutRate: z.number().min(0).max(1).optional(),
}) satisfies z.ZodType<SandboxFaults>;

export type Environment = 'development' | 'production' | 'test';

export type Config = {
  environment: Environment;
  port: number;
  host: string;
  /** The URL shoppers and merchants reach Kassa at; hosted-page links and token issuer derive from it. */
  publicUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
  /**
   * Production refuses the embedded PostgreSQL server (one process, data on the local disk, no backups of
   * its own) unless this is set; development and tests use it by default.
   */
  allowEmbeddedDatabase: boolean;
  masterKey: string | undefined;
  jwtPrivateKeyPem: string | undefined;
  logLevel: z.infer<typeof EnvSchema>['KASSA_LOG_LEVEL'];
  dbPoolMax: number;
  egressAllowList: string[];
  runWorkers: boolean;
  demoShop: boolean;
  accessTokenTtlSeconds: number;
  shutdownGraceMs: number;
  /** Delays (seconds) between webhook attempts; attempt 1 is immediate, so attempts = length + 1. */
  webhookRetryScheduleSeconds: number[];
  /**
   * How long a claimed webhook delivery stays reserved for its process. Must outlast one attempt (28 s
   * response timeout) or a slow receiver may get a duplicate; a crashed process's claims return after it.
   */
  webhookLeaseSeconds: number;
  /** Merchant callbacks (ok / fail / open / notification / verify_order): connect timeout (docs/callbacks.md: 7 s). */
  callbackConnectTimeoutMs: number;
  /** Merchant callbacks: deadline for the whole exchange (docs/callbacks.md: 28 s). */
  callbackResponseTimeoutMs: number;
  /**
   * How long a payment may stay `processing` (or a capture / refund PENDING) before the recovery worker asks
   * the processor again; the worker runs every third of this, at most every 10 s. Shorter in fault tests.
   */
  paymentRecoveryMs: number;
  /** Faults the sandbox acquirer simulates (test / development only; see SandboxFaults). */
  sandboxFaults: SandboxFaults | undefined;
} & AbuseLimitsConfig;

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

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set" (e.g. `DATABASE_URL= npm start` selects the embedded server).
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const values = parsed.data;
  const environment: Environment =
    values.KASSA_ENV ??
    (values.NODE_ENV === 'production' ? 'production' : values.NODE_ENV === 'test' ? 'test' : 'development');
  const host = values.HOST ?? (environment === 'production' ? '0.0.0.0' : '127.0.0.1');
  const publicUrl = (values.KASSA_PUBLIC_URL ?? `http://localhost:${values.PORT}`).replace(/\/+$/, '');
  let webhookRetryScheduleSeconds = [...DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS];
  if (values.KASSA_WEBHOOK_RETRY_SCHEDULE !== undefined) {
    try {
      webhookRetryScheduleSeconds = parseRetrySchedule(values.KASSA_WEBHOOK_RETRY_SCHEDULE);
    } catch (error) {
      throw new ConfigError(
        `Invalid configuration:\n  KASSA_WEBHOOK_RETRY_SCHEDULE: ${(error as Error).message}`,
      );
    }
  }
  let sandboxFaults: SandboxFaults | undefined;
  if (values.KASSA_SANDBOX_FAULTS !== undefined) {
    if (environment === 'production') {
      throw new ConfigError('KASSA_SANDBOX_FAULTS simulates acquirer failures and is refused in production.');
    }
    let json: unknown;
    try {
      json = JSON.parse(values.KASSA_SANDBOX_FAULTS);
    } catch {
      throw new ConfigError('Invalid configuration:\n  KASSA_SANDBOX_FAULTS: not valid JSON');
    }
    const faults = SandboxFaultsSchema.safeParse(json);
    if (!faults.success) {
      const lines = faults.error.issues.map(
        (issue) => `  KASSA_SANDBOX_FAULTS.${issue.path.join('.')}: ${issue.message}`,
      );
      throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
    }
    sandboxFaults = faults.data;
  }
  if (environment === 'production' && !values.KASSA_MASTER_KEY) {
    throw new ConfigError('KASSA_MASTER_KEY is required in production (32 random bytes, base64).');
  }
  return {
    environment,
    port: values.PORT,
    host,
    publicUrl,
    databaseUrl: values.DATABASE_URL,
    dataDir: values.KASSA_DATA_DIR,
    allowEmbeddedDatabase: values.KASSA_ALLOW_EMBEDDED_DB,
    masterKey: values.KASSA_MASTER_KEY,
    jwtPrivateKeyPem: values.KASSA_JWT_PRIVATE_KEY,
    logLevel: values.KASSA_LOG_LEVEL,
    dbPoolMax: values.KASSA_DB_POOL_MAX,
    egressAllowList: values.KASSA_EGRESS_ALLOW_LIST.split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
    runWorkers: values.KASSA_WORKERS,
    demoShop: values.KASSA_DEMO ?? environment !== 'production',
    accessTokenTtlSeconds: values.KASSA_ACCESS_TOKEN_TTL_SECONDS,
    shutdownGraceMs: values.KASSA_SHUTDOWN_GRACE_MS,
    webhookRetryScheduleSeconds,
    webhookLeaseSeconds: values.KASSA_WEBHOOK_LEASE_SECONDS,
    callbackConnectTimeoutMs: values.KASSA_CALLBACK_CONNECT_TIMEOUT_MS,
    callbackResponseTimeoutMs: values.KASSA_CALLBACK_RESPONSE_TIMEOUT_MS,
    paymentRecoveryMs: values.KASSA_PAYMENT_RECOVERY_MS,
    sandboxFaults,
    trustProxy: parseTrustProxy(values.KASSA_TRUST_PROXY, environment),
    requestLimits: {
      requestsPerWindow: values.KASSA_RATE_LIMIT_REQUESTS,
      windowSeconds: values.KASSA_RATE_LIMIT_WINDOW_SECONDS,
      shedEventLoopDelayMs: values.KASSA_SHED_EVENT_LOOP_DELAY_MS,
      shedPoolWaiting: values.KASSA_SHED_POOL_WAITING,
      shedRetryAfterSeconds: values.KASSA_SHED_RETRY_AFTER_SECONDS,
    },
  };
}
