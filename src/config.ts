import { parseTrustProxy } from './config/abuse-limits.ts';
import type { Config } from './config/config.types.ts';
import { parseWebhookRetrySchedule } from './config/delivery.ts';
import { EnvSchema } from './config/env-schema.ts';
import { parseSandboxFaults } from './config/processors.ts';
import { readSecretFiles } from './config/secret-files.ts';
import {
  checkProductionFailsClosed,
  resolveEnvironment,
  splitPreviousMasterKeys,
} from './config/security.ts';
import { ConfigError } from './config/variables.ts';

/**
 * One validated read of the environment. Everything configurable lives in `src/config/` (one file per area:
 * its variables' schemas, README descriptions and parsing); nothing else reads `process.env`. No
 * `DATABASE_URL` means the embedded PostgreSQL server under `KASSA_DATA_DIR`.
 */

export { parseTrustProxy } from './config/abuse-limits.ts';
export type { AbuseLimitsConfig, RequestLimitsConfig, TrustProxy } from './config/abuse-limits.ts';
export type { Config } from './config/config.types.ts';
export { EnvSchema } from './config/env-schema.ts';
export { FILE_SECRETS } from './config/secret-files.ts';
export { describeWeakMasterKey } from './config/security.ts';
export { ConfigError, type Environment, type VariableDocs } from './config/variables.ts';

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
  const webhookRetryScheduleSeconds = parseWebhookRetrySchedule(values.KASSA_WEBHOOK_RETRY_SCHEDULE);
  const sandboxFaults = parseSandboxFaults(values.KASSA_SANDBOX_FAULTS, environment);
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
    processorTimeoutMs: values.KASSA_PROCESSOR_TIMEOUT_MS,
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
