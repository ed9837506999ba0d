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
  KASSA_MASTER_KEY_PREVIOUS: z.string().optional(),
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
    callbackConnectTimeoutMs: values.KASSA_CALLBACK_CONNECT_TIMEOUT_MS,
    callbackResponseTimeoutMs: values.KASSA_CALLBACK_RESPONSE_TIMEOUT_MS,
    paymentRecoveryMs: values.KASSA_PAYMENT_RECOVERY_MS,
    sandboxFaults,
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
