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
};

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
  };
}
