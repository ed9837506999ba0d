import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from './outbox/retry-schedule.ts';
import type { SandboxFaults } from './connectors/sandbox/sandbox.connector.ts';
import type { AttemptLimitsConfig } from './modules/payments/attempt-limits.ts';

/**
 * One validated read of the environment. Everything configurable lives here; nothing else reads
 * `process.env`. No `DATABASE_URL` means the embedded PostgreSQL server under `KASSA_DATA_DIR`.
 */

export class ConfigError extends Error {}

const booleanFlag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

/**
 * What the README's configuration table says of a variable. `npm run docs:config` (scripts/config-table.ts)
 * writes the table from these, and test/unit/config-table.test.ts fails when README.md and this schema
 * differ: a new variable needs its description here. `defaultText` is for defaults the schema cannot state
 * (derived, or depending on the environment); otherwise the schema's `.default()` is shown.
 */
export type VariableDocs = { description: string; defaultText?: string };
const documented = <T extends z.ZodType>(schema: T, docs: VariableDocs): T => schema.meta(docs);

export const EnvSchema = z.object({
  PORT: documented(z.coerce.number().int().min(0).max(65535).default(3000), { description: 'HTTP port' }),
  HOST: documented(z.string().optional(), {
    description: 'listen address (also of the `KASSA_METRICS_PORT` listener)',
    defaultText: '`127.0.0.1` (`0.0.0.0` in production)',
  }),
  KASSA_PUBLIC_URL: documented(z.url().optional(), {
    description:
      'the URL shoppers and merchants reach Kassa at (links, token issuer); production requires an `https://` URL, and with an `https://` URL every response carries `Strict-Transport-Security`',
    defaultText: '`http://localhost:$PORT` (required in production)',
  }),
  DATABASE_URL: documented(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
      .optional(),
    {
      description:
        '`postgres://…` to use an external PostgreSQL server; several Kassa processes can share it. Without it: the embedded server under `KASSA_DATA_DIR`',
    },
  ),
  KASSA_DATA_DIR: documented(z.string().default('./.kassa'), {
    description: 'embedded PostgreSQL data, and the development master key',
  }),
  KASSA_ALLOW_EMBEDDED_DB: documented(booleanFlag.default(false), {
    description:
      'production refuses to start without `DATABASE_URL` unless this is `true` (the embedded server is one process with its data on the local disk; it must then be installed: [docs/operations.md](docs/operations.md#installing-for-production))',
  }),
  KASSA_ENV: documented(z.enum(['development', 'production', 'test']).optional(), {
    description:
      '`development`, `test` or `production` (exactly); any other value is refused. With neither this nor `NODE_ENV` set Kassa runs as development only when `HOST` is a loopback address, and otherwise refuses to start. `production` enforces a configured master key, an https public URL and the strict egress policy ([docs/security.md](docs/security.md#production-fails-closed))',
    defaultText: 'from `NODE_ENV`; else `development` on loopback, none otherwise',
  }),
  NODE_ENV: documented(z.string().optional(), {
    description:
      'read only when `KASSA_ENV` is not set (tools set it for their own reasons): `development`, `test` or `production`, any other value is refused',
  }),
  KASSA_MASTER_KEY: documented(z.string().optional(), {
    description:
      '32+ random bytes, base64 (`openssl rand -base64 32`): every encryption and signing key derives from it; constant or patterned keys are refused',
    defaultText: 'generated in `$KASSA_DATA_DIR/master.key` (development only)',
  }),
  KASSA_MASTER_KEY_PREVIOUS: documented(z.string().optional(), {
    description:
      'comma-separated master keys being rotated away from: they only open values they sealed ([docs/security.md](docs/security.md#production-fails-closed))',
  }),
  KASSA_JWT_PRIVATE_KEY: documented(z.string().optional(), {
    description: 'PKCS#8 PEM RSA key to sign access tokens',
    defaultText: 'generated and stored (encrypted) on first start',
  }),
  KASSA_LOG_LEVEL: documented(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    {
      description:
        'pino log level; in development the per-request lines are at `debug` ([docs/operations.md](docs/operations.md#logs))',
    },
  ),
  KASSA_DB_POOL_MAX: documented(z.coerce.number().int().min(1).max(200).default(10), {
    description: 'database connections per process',
  }),
  KASSA_EGRESS_ALLOW_LIST: documented(z.string().default(''), {
    description: 'hosts or CIDRs webhooks and callbacks may reach even when private (comma-separated)',
    defaultText: '—',
  }),
  KASSA_WORKERS: documented(booleanFlag.default(true), {
    description: 'run background workers (expiry, outbox, recovery) in this process',
  }),
  KASSA_DEMO: documented(booleanFlag.optional(), {
    description: 'serve the demo shop at `/demo` ([The demo shop](#the-demo-shop))',
    defaultText: '`true` (`false` in production)',
  }),
  KASSA_ACCESS_TOKEN_TTL_SECONDS: documented(z.coerce.number().int().min(60).max(86_400).default(1800), {
    description: 'lifetime of the access tokens `POST /v1/oauth/tokens` issues (60 … 86400)',
  }),
  KASSA_SHUTDOWN_GRACE_MS: documented(z.coerce.number().int().min(0).default(10_000), {
    description:
      'on SIGTERM / SIGINT the gateway stops taking connections, lets requests in flight finish for at most this long, stops its workers and then its embedded PostgreSQL; a signal that arrives while it is still starting stops it as soon as the start has finished; a second signal exits at once',
  }),
  KASSA_WEBHOOK_RETRY_SCHEDULE: documented(z.string().optional(), {
    description:
      'delays in seconds between webhook attempts (and merchant notification callbacks), comma-separated; the first attempt is immediate, so attempts = delays + 1 ([docs/webhooks.md](docs/webhooks.md))',
    defaultText: `\`${DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS.join(',')}\``,
  }),
  KASSA_WEBHOOK_LEASE_SECONDS: documented(z.coerce.number().min(1).max(3_600).default(60), {
    description:
      "how long a claimed webhook delivery stays reserved for its process; must outlast one attempt (28 s), and a crashed process's claims return after it",
  }),
  KASSA_CREDENTIAL_USAGE_FLUSH_SECONDS: documented(z.coerce.number().min(0.05).max(300).default(5), {
    description:
      "how often each process writes the `last_used_at` of the API keys and OAuth clients it saw (one UPDATE per flush, also on shutdown); the value's accuracy",
  }),
  KASSA_CALLBACK_CONNECT_TIMEOUT_MS: documented(z.coerce.number().int().min(50).max(60_000).default(7_000), {
    description: 'merchant callbacks (ok / fail / open / notification / verify_order): connect timeout',
  }),
  KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: documented(
    z.coerce.number().int().min(100).max(120_000).default(28_000),
    { description: 'merchant callbacks: deadline for the whole exchange' },
  ),
  KASSA_PAYMENT_RECOVERY_MS: documented(z.coerce.number().int().min(100).max(3_600_000).default(60_000), {
    description:
      'age after which the recovery worker settles a payment left `processing` (or a capture / refund left PENDING); it runs every third of this, at most every 10 s',
  }),
  KASSA_SANDBOX_FAULTS: documented(z.string().optional(), {
    description:
      'test / development only (refused in production): JSON of simulated sandbox-acquirer faults, e.g. `{"timeoutMs":200,"timeoutEveryNth":3}` ([docs/reliability.md](docs/reliability.md))',
  }),
  KASSA_METRICS_TOKEN: documented(
    z.string().min(16, 'KASSA_METRICS_TOKEN must be at least 16 characters').optional(),
    {
      description:
        'serve Prometheus metrics at `/metrics` on the main port to requests with `Authorization: Bearer <this token>` (16+ characters) ([docs/operations.md](docs/operations.md#monitoring))',
    },
  ),
  KASSA_METRICS_PORT: documented(z.coerce.number().int().min(0).max(65535).optional(), {
    description:
      'serve `/metrics` on a listener of its own at this port (bound to `HOST`; asks for `KASSA_METRICS_TOKEN` when that is set)',
  }),
  // OpenTelemetry's own names (https://opentelemetry.io/docs/specs/otel/protocol/exporter/), so a platform's
  // usual settings apply unchanged.
  OTEL_EXPORTER_OTLP_ENDPOINT: documented(z.url().optional(), {
    description:
      'export trace spans (incoming requests, webhook, callback and processor calls, worker runs) over OTLP/HTTP JSON to this collector (`/v1/traces` is appended); unset, no spans are recorded ([docs/operations.md](docs/operations.md#tracing))',
    defaultText: '— (off)',
  }),
  OTEL_SERVICE_NAME: documented(z.string().min(1).default('kassa'), {
    description: 'the `service.name` of exported spans',
  }),
  // Abuse limits (proxy trust, request limits, load shedding).
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
  KASSA_AUTO_MIGRATE: documented(booleanFlag.default(true), {
    description:
      'apply pending migrations at start; `false`: the app changes no schema, refuses to start while a migration is pending, and `kassa migrate` runs as its own job ([docs/operations.md](docs/operations.md#upgrades))',
  }),
  KASSA_RETENTION_EXPIRED_CHECKOUT_DAYS: documented(z.coerce.number().int().min(1).max(36_500).default(90), {
    description:
      'checkouts that expired with no payment attempt are deleted with their order, events and deliveries after this many days (money is kept forever: [docs/operations.md](docs/operations.md#retention))',
  }),
  KASSA_RETENTION_WEBHOOK_BODY_DAYS: documented(z.coerce.number().int().min(1).max(36_500).default(30), {
    description: 'response bodies of finished webhook deliveries are cleared after this many days',
  }),
  KASSA_RETENTION_WEBHOOK_HISTORY_DAYS: documented(z.coerce.number().int().min(1).max(36_500).default(365), {
    description:
      'finished webhook deliveries and their attempts are deleted after this many days (the events stay)',
  }),
  KASSA_RETENTION_IDEMPOTENCY_HOURS: documented(z.coerce.number().int().min(24).max(876_000).default(24), {
    description:
      'idempotency records are deleted after this many hours (a later retry with the same key is a new request)',
  }),
  KASSA_RETENTION_BATCH_SIZE: documented(z.coerce.number().int().min(10).max(10_000).default(500), {
    description: 'rows per pruning statement, so the pruner never holds locks on a hot table for long',
  }),
});

/**
 * Secrets that may come from a file instead (`<NAME>_FILE=/run/secrets/…`, the Docker / Kubernetes
 * convention): read once at load, one trailing line break removed. Setting both is an error.
 */
export const FILE_SECRETS = [
  'DATABASE_URL',
  'KASSA_MASTER_KEY',
  'KASSA_JWT_PRIVATE_KEY',
  'KASSA_METRICS_TOKEN',
] as const satisfies readonly (keyof typeof EnvSchema.shape)[];

/** `X_FILE` → the file's content as `X`; a ConfigError names the variable and path, never the content. */
function readSecretFiles(env: Record<string, string>): Record<string, string> {
  const resolved = { ...env };
  for (const name of FILE_SECRETS) {
    const fileVariable = `${name}_FILE`;
    const file = env[fileVariable];
    if (file === undefined) continue;
    if (env[name] !== undefined) {
      throw new ConfigError(
        `Invalid configuration:\n  ${name} and ${fileVariable} are both set; set only one`,
      );
    }
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`Invalid configuration:\n  ${fileVariable}: cannot read ${file} (${reason})`);
    }
    content = content.replace(/\r?\n$/, '');
    if (content === '') throw new ConfigError(`Invalid configuration:\n  ${fileVariable}: ${file} is empty`);
    resolved[name] = content;
    delete resolved[fileVariable];
  }
  return resolved;
}

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
  /** Why this mode was chosen, for the start-up banner (e.g. "KASSA_ENV", "default: listening on loopback"). */
  environmentSource: string;
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
  /** Master keys being rotated away from: they only open what they sealed (src/lib/keyring.ts). */
  previousMasterKeys: string[];
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
  /** How often `last_used_at` of the credentials seen is written (src/modules/merchants/credential-usage.ts). */
  credentialUsageFlushSeconds: number;
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
  /** Bearer token that opens `/metrics` on the main port; undefined: not served there. */
  metricsToken: string | undefined;
  /** Port of the separate `/metrics` listener (bound to HOST); undefined: none. */
  metricsPort: number | undefined;
  /** OTLP/HTTP trace export (src/metrics/tracing.ts); undefined: tracing off, only `traceparent` travels. */
  tracing: { endpoint: string; serviceName: string } | undefined;
  /**
   * Apply pending migrations at start (the default). false: the app changes no schema — it checks that every
   * migration is applied and refuses to start otherwise; `kassa migrate` runs as its own job, with a
   * DATABASE_URL whose role has DDL rights (docs/operations.md, "Upgrades").
   */
  autoMigrate: boolean;
  /** What the retention worker prunes, and when (docs/operations.md, "Retention"). Money is kept forever. */
  retention: {
    /** Checkouts that expired unpaid (no payment attempt at all), with their orders and events, after this. */
    expiredCheckoutDays: number;
    /** Response bodies (`response_excerpt`) of finished webhook deliveries' attempts after this; the rest stays. */
    webhookBodyDays: number;
    /** Finished webhook deliveries, with their attempts, after this (the events themselves stay). */
    webhookHistoryDays: number;
    /** Idempotency records after this (a retry with the same key later is a new request). */
    idempotencyHours: number;
    /** Rows per statement: short statements, so the pruner never holds locks on a hot table for long. */
    batchSize: number;
  };
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set" (e.g. `DATABASE_URL= npm start` selects the embedded server).
  const present = readSecretFiles(
    Object.fromEntries(
      Object.entries(env).filter(
        (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
      ),
    ),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const values = parsed.data;
  const { environment, environmentSource } = resolveEnvironment(values);
  const host = values.HOST ?? (environment === 'production' ? '0.0.0.0' : '127.0.0.1');
  const publicUrl = (values.KASSA_PUBLIC_URL ?? `http://localhost:${values.PORT}`).replace(/\/+$/, '');
  checkProductionFailsClosed(values, environment);
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
  return {
    environment,
    environmentSource,
    port: values.PORT,
    host,
    publicUrl,
    databaseUrl: values.DATABASE_URL,
    dataDir: values.KASSA_DATA_DIR,
    allowEmbeddedDatabase: values.KASSA_ALLOW_EMBEDDED_DB,
    masterKey: values.KASSA_MASTER_KEY,
    previousMasterKeys: splitPreviousMasterKeys(values.KASSA_MASTER_KEY_PREVIOUS),
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
    credentialUsageFlushSeconds: values.KASSA_CREDENTIAL_USAGE_FLUSH_SECONDS,
    callbackConnectTimeoutMs: values.KASSA_CALLBACK_CONNECT_TIMEOUT_MS,
    callbackResponseTimeoutMs: values.KASSA_CALLBACK_RESPONSE_TIMEOUT_MS,
    paymentRecoveryMs: values.KASSA_PAYMENT_RECOVERY_MS,
    sandboxFaults,
    metricsToken: values.KASSA_METRICS_TOKEN,
    metricsPort: values.KASSA_METRICS_PORT,
    tracing: values.OTEL_EXPORTER_OTLP_ENDPOINT
      ? { endpoint: values.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: values.OTEL_SERVICE_NAME }
      : undefined,
    trustProxy: parseTrustProxy(values.KASSA_TRUST_PROXY, environment),
    requestLimits: {
      requestsPerWindow: values.KASSA_RATE_LIMIT_REQUESTS,
      windowSeconds: values.KASSA_RATE_LIMIT_WINDOW_SECONDS,
      shedEventLoopDelayMs: values.KASSA_SHED_EVENT_LOOP_DELAY_MS,
      shedPoolWaiting: values.KASSA_SHED_POOL_WAITING,
      shedRetryAfterSeconds: values.KASSA_SHED_RETRY_AFTER_SECONDS,
    },
    attemptLimits: {
      perCheckout: values.KASSA_CARD_DECLINES_PER_CHECKOUT,
      perClientAddress: values.KASSA_CARD_DECLINES_PER_ADDRESS,
      perCard: values.KASSA_CARD_DECLINES_PER_CARD,
      windowSeconds: values.KASSA_CARD_DECLINE_WINDOW_SECONDS,
      inTestMode: values.KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE,
    },
    autoMigrate: values.KASSA_AUTO_MIGRATE,
    retention: {
      expiredCheckoutDays: values.KASSA_RETENTION_EXPIRED_CHECKOUT_DAYS,
      webhookBodyDays: values.KASSA_RETENTION_WEBHOOK_BODY_DAYS,
      webhookHistoryDays: values.KASSA_RETENTION_WEBHOOK_HISTORY_DAYS,
      idempotencyHours: values.KASSA_RETENTION_IDEMPOTENCY_HOURS,
      batchSize: values.KASSA_RETENTION_BATCH_SIZE,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Production fails closed (docs/security.md, "Production fails closed"). Kept in one block on purpose.
// ---------------------------------------------------------------------------------------------------------

const ENVIRONMENTS: readonly Environment[] = ['development', 'test', 'production'];

/**
 * The mode, from `KASSA_ENV`, else `NODE_ENV`, else the listening address. A misspelt value (`prod`,
 * `Production`) used to mean development — loopback egress, the demo shop, a master key on disk — so any
 * value outside the three is refused. `KASSA_ENV` wins over `NODE_ENV`, so a tool that sets `NODE_ENV` to
 * something of its own (vitest sets `test`, bundlers set `development` / `production`) can be overridden.
 * With neither set, development is assumed only while the gateway listens on loopback: a gateway reachable
 * from other machines must say what it is.
 */
function resolveEnvironment(values: z.infer<typeof EnvSchema>): {
  environment: Environment;
  environmentSource: string;
} {
  if (values.KASSA_ENV !== undefined)
    return { environment: values.KASSA_ENV, environmentSource: 'KASSA_ENV' };
  if (values.NODE_ENV !== undefined) {
    if (!(ENVIRONMENTS as readonly string[]).includes(values.NODE_ENV)) {
      throw new ConfigError(
        `Invalid configuration:\n  NODE_ENV: "${values.NODE_ENV}" is not a Kassa mode; use development, test or ` +
          'production (exactly, lower case), or set KASSA_ENV, which takes precedence over NODE_ENV',
      );
    }
    return { environment: values.NODE_ENV as Environment, environmentSource: 'NODE_ENV' };
  }
  if (values.HOST === undefined || isLoopbackHost(values.HOST)) {
    return {
      environment: 'development',
      environmentSource: 'default: KASSA_ENV unset, listening on loopback',
    };
  }
  throw new ConfigError(
    `Invalid configuration:\n  KASSA_ENV: required when listening on a non-loopback address (HOST=${values.HOST}); ` +
      'set KASSA_ENV=production (or development, on a trusted network)',
  );
}

function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** Settings production must have; each is a configuration error at start-up rather than a quiet default. */
function checkProductionFailsClosed(values: z.infer<typeof EnvSchema>, environment: Environment) {
  if (values.KASSA_MASTER_KEY !== undefined) {
    const weakness = describeWeakMasterKey(values.KASSA_MASTER_KEY);
    if (weakness) throw new ConfigError(`KASSA_MASTER_KEY ${weakness}`);
  }
  if (environment !== 'production') return;
  if (!values.KASSA_MASTER_KEY) {
    throw new ConfigError('KASSA_MASTER_KEY is required in production (32 random bytes, base64).');
  }
  // Every URL Kassa hands out (hosted pages, payment links, token issuer) derives from the public URL; the
  // old default (http://localhost) broke them all, and plain http exposes checkout pages and tokens.
  if (values.KASSA_PUBLIC_URL === undefined) {
    throw new ConfigError(
      'Invalid configuration:\n  KASSA_PUBLIC_URL: required in production: the https URL shoppers and ' +
        'merchants reach Kassa at (e.g. https://pay.example.com)',
    );
  }
  if (new URL(values.KASSA_PUBLIC_URL).protocol !== 'https:') {
    throw new ConfigError(
      `Invalid configuration:\n  KASSA_PUBLIC_URL: must be an https URL in production (got ${values.KASSA_PUBLIC_URL}); ` +
        'terminate TLS in front of Kassa and give its https address',
    );
  }
}

/**
 * Why a configured master key is too weak, or null. 32 zero bytes, a repeated pattern or a pass phrase
 * typed into base64 all decode to ≥ 32 bytes yet carry little secret. A key from `openssl rand -base64 32`
 * has about 26 distinct values among its 32 bytes (the chance of fewer than 16 is below 10⁻¹²), and no
 * repeating period; both tests are cheap and refuse only keys no random source produces.
 */
export function describeWeakMasterKey(encoded: string): string | null {
  const key = Buffer.from(encoded.trim(), 'base64');
  if (key.length < 32) {
    return 'must be at least 32 bytes, base64-encoded (make one with `openssl rand -base64 32`)';
  }
  const distinct = new Set(key).size;
  if (distinct < MIN_DISTINCT_MASTER_KEY_BYTES) {
    return (
      `looks constant or patterned (${distinct} distinct byte values in ${key.length} bytes); ` +
      'use 32 random bytes (`openssl rand -base64 32`)'
    );
  }
  for (let period = 1; period <= key.length / 2; period += 1) {
    if (key.subarray(period).equals(key.subarray(0, key.length - period))) {
      return `repeats every ${period} bytes; use 32 random bytes (\`openssl rand -base64 32\`)`;
    }
  }
  return null;
}

const MIN_DISTINCT_MASTER_KEY_BYTES = 16;

/** `KASSA_MASTER_KEY_PREVIOUS`: comma-separated base64 keys (each at least 32 bytes). */
function splitPreviousMasterKeys(value: string | undefined): string[] {
  const keys = (value ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  for (const key of keys) {
    if (Buffer.from(key, 'base64').length < 32) {
      throw new ConfigError(
        'Invalid configuration:\n  KASSA_MASTER_KEY_PREVIOUS: each key must be at least 32 bytes, base64',
      );
    }
  }
  return keys;
}
