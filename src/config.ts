import { z } from 'zod';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from './outbox/retry-schedule.ts';

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
});

export type Environment = 'development' | 'production' | 'test';

export type Config = {
  environment: Environment;
  port: number;
  host: string;
  /** The URL shoppers and merchants reach Kassa at; hosted-page links and token issuer derive from it. */
  publicUrl: string;
  databaseUrl: string | undefined;
  dataDir: string;
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
};

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set" (e.g. `DATABASE_URL= npm start` selects the embedded server).
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
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
      throw new ConfigError(`Invalid configuration:\n  KASSA_WEBHOOK_RETRY_SCHEDULE: ${(error as Error).message}`);
    }
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
  };
}
