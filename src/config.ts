import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from './outbox/retry-schedule.ts';
import type { SandboxFaults } from './connectors/sandbox/sandbox.connector.ts';

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
    description: 'the URL shoppers and merchants reach Kassa at (links, token issuer)',
    defaultText: '`http://localhost:$PORT`',
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
      '`development`, `production` or `test`; `production` enforces a configured master key and the strict egress policy',
    defaultText: 'from `NODE_ENV`, else `development`',
  }),
  NODE_ENV: documented(z.string().optional(), {
    description: 'read only when `KASSA_ENV` is not set: `production` or `test` select that environment',
  }),
  KASSA_MASTER_KEY: documented(z.string().optional(), {
    description: '32+ random bytes, base64: every encryption and signing key derives from it',
    defaultText: 'generated in `$KASSA_DATA_DIR/master.key` (development only)',
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
  /** Merchant callbacks (ok / fail / open / notification / verify_order): connect timeout (seed 001: 7 s). */
  callbackConnectTimeoutMs: number;
  /** Merchant callbacks: deadline for the whole exchange (seed 001: 28 s). */
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
};

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
    metricsToken: values.KASSA_METRICS_TOKEN,
    metricsPort: values.KASSA_METRICS_PORT,
  };
}
