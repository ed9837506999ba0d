import type { SandboxFaults } from '../connectors/sandbox/sandbox.connector.ts';
import type { AbuseLimitsConfig } from './abuse-limits.ts';
import type { LogLevel } from './server.ts';
import type { Environment } from './variables.ts';

/** The configuration as the rest of Kassa reads it: the environment's values checked, derived and grouped. */

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
  logLevel: LogLevel;
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
  /** KASSA_PROCESSOR_TIMEOUT_MS: one processor call's deadline (egress), which also bounds a payment attempt. */
  processorTimeoutMs: number;
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
