import { z } from 'zod';
import { abuseLimitVariables } from './abuse-limits.ts';
import { databaseVariables } from './database.ts';
import { deliveryVariables } from './delivery.ts';
import { observabilityVariables } from './observability.ts';
import { processorVariables } from './processors.ts';
import { securityVariables } from './security.ts';
import { serverVariables } from './server.ts';

/**
 * Every variable Kassa reads, in the order of the README's configuration table (scripts/config-table.ts writes
 * it in this order). Each area's file holds its variables' schemas and descriptions; this only orders them.
 * The `satisfies` below fails the typecheck when an area's variable is left out.
 */

type AreaVariables = typeof serverVariables &
  typeof databaseVariables &
  typeof securityVariables &
  typeof deliveryVariables &
  typeof processorVariables &
  typeof observabilityVariables &
  typeof abuseLimitVariables;

const server = serverVariables;
const database = databaseVariables;
const security = securityVariables;
const delivery = deliveryVariables;
const processors = processorVariables;
const observability = observabilityVariables;
const abuse = abuseLimitVariables;

const variablesInTableOrder = {
  PORT: server.PORT,
  HOST: server.HOST,
  KASSA_PUBLIC_URL: server.KASSA_PUBLIC_URL,
  DATABASE_URL: database.DATABASE_URL,
  KASSA_DATA_DIR: database.KASSA_DATA_DIR,
  KASSA_ALLOW_EMBEDDED_DB: database.KASSA_ALLOW_EMBEDDED_DB,
  KASSA_ENV: security.KASSA_ENV,
  NODE_ENV: security.NODE_ENV,
  KASSA_MASTER_KEY: security.KASSA_MASTER_KEY,
  KASSA_MASTER_KEY_PREVIOUS: security.KASSA_MASTER_KEY_PREVIOUS,
  KASSA_JWT_PRIVATE_KEY: security.KASSA_JWT_PRIVATE_KEY,
  KASSA_LOG_LEVEL: server.KASSA_LOG_LEVEL,
  KASSA_DB_POOL_MAX: database.KASSA_DB_POOL_MAX,
  KASSA_EGRESS_ALLOW_LIST: delivery.KASSA_EGRESS_ALLOW_LIST,
  KASSA_WORKERS: server.KASSA_WORKERS,
  KASSA_DEMO: server.KASSA_DEMO,
  KASSA_ACCESS_TOKEN_TTL_SECONDS: security.KASSA_ACCESS_TOKEN_TTL_SECONDS,
  KASSA_SHUTDOWN_GRACE_MS: server.KASSA_SHUTDOWN_GRACE_MS,
  KASSA_WEBHOOK_RETRY_SCHEDULE: delivery.KASSA_WEBHOOK_RETRY_SCHEDULE,
  KASSA_WEBHOOK_LEASE_SECONDS: delivery.KASSA_WEBHOOK_LEASE_SECONDS,
  KASSA_CREDENTIAL_USAGE_FLUSH_SECONDS: security.KASSA_CREDENTIAL_USAGE_FLUSH_SECONDS,
  KASSA_CALLBACK_CONNECT_TIMEOUT_MS: delivery.KASSA_CALLBACK_CONNECT_TIMEOUT_MS,
  KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: delivery.KASSA_CALLBACK_RESPONSE_TIMEOUT_MS,
  KASSA_PAYMENT_RECOVERY_MS: processors.KASSA_PAYMENT_RECOVERY_MS,
  KASSA_PROCESSOR_TIMEOUT_MS: processors.KASSA_PROCESSOR_TIMEOUT_MS,
  KASSA_SANDBOX_FAULTS: processors.KASSA_SANDBOX_FAULTS,
  KASSA_METRICS_TOKEN: observability.KASSA_METRICS_TOKEN,
  KASSA_METRICS_PORT: observability.KASSA_METRICS_PORT,
  OTEL_EXPORTER_OTLP_ENDPOINT: observability.OTEL_EXPORTER_OTLP_ENDPOINT,
  OTEL_SERVICE_NAME: observability.OTEL_SERVICE_NAME,
  KASSA_TRUST_PROXY: abuse.KASSA_TRUST_PROXY,
  KASSA_RATE_LIMIT_REQUESTS: abuse.KASSA_RATE_LIMIT_REQUESTS,
  KASSA_RATE_LIMIT_WINDOW_SECONDS: abuse.KASSA_RATE_LIMIT_WINDOW_SECONDS,
  KASSA_CARD_DECLINES_PER_CHECKOUT: abuse.KASSA_CARD_DECLINES_PER_CHECKOUT,
  KASSA_CARD_DECLINES_PER_ADDRESS: abuse.KASSA_CARD_DECLINES_PER_ADDRESS,
  KASSA_CARD_DECLINES_PER_CARD: abuse.KASSA_CARD_DECLINES_PER_CARD,
  KASSA_CARD_DECLINE_WINDOW_SECONDS: abuse.KASSA_CARD_DECLINE_WINDOW_SECONDS,
  KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE: abuse.KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE,
  KASSA_SHED_EVENT_LOOP_DELAY_MS: abuse.KASSA_SHED_EVENT_LOOP_DELAY_MS,
  KASSA_SHED_POOL_WAITING: abuse.KASSA_SHED_POOL_WAITING,
  KASSA_SHED_RETRY_AFTER_SECONDS: abuse.KASSA_SHED_RETRY_AFTER_SECONDS,
  KASSA_AUTO_MIGRATE: database.KASSA_AUTO_MIGRATE,
  KASSA_RETENTION_EXPIRED_CHECKOUT_DAYS: database.KASSA_RETENTION_EXPIRED_CHECKOUT_DAYS,
  KASSA_RETENTION_WEBHOOK_BODY_DAYS: database.KASSA_RETENTION_WEBHOOK_BODY_DAYS,
  KASSA_RETENTION_WEBHOOK_HISTORY_DAYS: database.KASSA_RETENTION_WEBHOOK_HISTORY_DAYS,
  KASSA_RETENTION_IDEMPOTENCY_HOURS: database.KASSA_RETENTION_IDEMPOTENCY_HOURS,
  KASSA_RETENTION_BATCH_SIZE: database.KASSA_RETENTION_BATCH_SIZE,
} satisfies { [Name in keyof AreaVariables]: AreaVariables[Name] };

export const EnvSchema = z.object(variablesInTableOrder);

export type EnvValues = z.infer<typeof EnvSchema>;
