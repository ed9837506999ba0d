import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client.ts';

/**
 * Kassa's Prometheus metrics (docs/operations.md#monitoring lists them and what to alert on). One `Metrics`
 * per process, built by the composition root (`src/services.ts`) and handed to whatever counts: no
 * module-level registry, so every test app counts in a registry of its own.
 *
 * Label values are always from small closed sets (route templates, outcomes, operation names): never a raw
 * URL (hosted-page and link URLs carry signatures), an id or a merchant.
 */
export type Metrics = ReturnType<typeof createMetrics>;

/** Request and processor-call latency buckets, in seconds: 5 ms … 30 s (the processor deadline). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  // Process memory and CPU, heap, event-loop lag (nodejs_eventloop_lag_*), GC: prom-client's standard set,
  // under its standard names so ready-made Node.js dashboards work.
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'kassa_http_request_duration_seconds',
      help: 'HTTP requests by method, route template (never the raw URL) and status code',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'kassa_webhook_deliveries_total',
      help: 'Webhook delivery attempts by result: succeeded, retry (failed, another attempt is scheduled), failed (no attempt left), canceled (endpoint disabled or deleted)',
      labelNames: ['result'] as const,
      registers,
    }),
    callbackResults: new Counter({
      name: 'kassa_callback_results_total',
      help: 'Merchant callback exchanges by kind (ok, fail, open, notification, verify_order) and result',
      labelNames: ['kind', 'result'] as const,
      registers,
    }),
    processorCalls: new Histogram({
      name: 'kassa_processor_call_duration_seconds',
      help: 'Payment processor (connector) calls by processor, operation and result; result is the processor answer status, or error_<code> when no usable answer came',
      labelNames: ['processor', 'operation', 'result'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    recoveryActions: new Counter({
      name: 'kassa_recovery_actions_total',
      help: 'Interrupted work the recovery worker settled, by kind (processing, abandoned, captures, refunds, pending)',
      labelNames: ['action'] as const,
      registers,
    }),
    idempotencyConflicts: new Counter({
      name: 'kassa_idempotency_conflicts_total',
      help: 'Requests refused for their Idempotency-Key, by problem code (idempotency_key_in_use, idempotency_key_reused)',
      labelNames: ['code'] as const,
      registers,
    }),
  };
}

/** At most this many pending rows are counted per scrape, so a huge backlog cannot make scraping slow. */
export const BACKLOG_COUNT_CAP = 100_000;

/**
 * Gauges read at scrape time: the database pool (from `pg.Pool`'s counters) and the outbox backlog (one
 * bounded SQL statement on partial indexes). Every process reports the same backlog figures; aggregate
 * them with `max`, not `sum`.
 */
export function observeDatabase(metrics: Metrics, db: Database): void {
  const registers = [metrics.registry];
  const pool = db.pool;
  new Gauge({
    name: 'kassa_db_pool_connections',
    help: 'PostgreSQL pool connections of this process by state: total (open), idle, in_use',
    labelNames: ['state'] as const,
    registers,
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'in_use' }, pool.totalCount - pool.idleCount);
    },
  });
  new Gauge({
    name: 'kassa_db_pool_waiting_requests',
    help: 'Queries of this process waiting for a free PostgreSQL pool connection',
    registers,
    collect() {
      this.set(pool.waitingCount);
    },
  });

  // One statement serves the four backlog gauges; each scrape runs it once (the first gauge collected runs
  // it, the others reuse its promise). prom-client calls every gauge's collect in the same synchronous pass,
  // so the promise is forgotten as soon as it settles: a timer here let a scrape within a millisecond of
  // the last one reuse its figures.
  let backlog: Promise<BacklogFigures | undefined> | undefined;
  const readBacklog = () => {
    backlog ??= queryBacklog(db).finally(() => {
      backlog = undefined;
    });
    return backlog;
  };
  const backlogGauge = (name: string, help: string, pick: (figures: BacklogFigures) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const figures = await readBacklog();
        // A failed query (database down) reports NaN rather than a stale or invented number.
        this.set(figures ? pick(figures) : Number.NaN);
      },
    });
  backlogGauge(
    'kassa_webhook_backlog_deliveries',
    `Webhook deliveries pending (due now or scheduled for a retry), counted up to ${BACKLOG_COUNT_CAP}`,
    (figures) => figures.pendingDeliveries,
  );
  backlogGauge(
    'kassa_webhook_backlog_oldest_seconds',
    'How long the oldest due webhook delivery has been waiting for its attempt (0 when none is due)',
    (figures) => figures.oldestDueSeconds,
  );
  backlogGauge(
    'kassa_outbox_pending_events',
    `Events not yet fanned out to webhook endpoints, counted up to ${BACKLOG_COUNT_CAP}`,
    (figures) => figures.pendingEvents,
  );
  backlogGauge(
    'kassa_webhook_endpoints_disabled',
    'Webhook endpoints that are disabled (by their merchant, or by Kassa after a 410 Gone), not deleted',
    (figures) => figures.disabledEndpoints,
  );
}

type BacklogFigures = {
  pendingDeliveries: number;
  oldestDueSeconds: number;
  pendingEvents: number;
  disabledEndpoints: number;
};

async function queryBacklog(db: Database): Promise<BacklogFigures | undefined> {
  try {
    // Each subquery reads a partial index (webhook_deliveries_due_idx, events_pending_fanout_idx) and stops at
    // the cap; webhook_endpoints is small (a few per merchant).
    const { rows } = await db.query<{
      pending_deliveries: string;
      oldest_due_seconds: number | null;
      pending_events: string;
      disabled_endpoints: string;
    }>(
      `SELECT
         (SELECT count(*) FROM (SELECT 1 FROM webhook_deliveries WHERE status = 'pending' LIMIT ${BACKLOG_COUNT_CAP}) d) AS pending_deliveries,
         (SELECT extract(epoch FROM now() - min(next_attempt_at))::float8
            FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= now()) AS oldest_due_seconds,
         (SELECT count(*) FROM (SELECT 1 FROM events WHERE fanout_state = 'pending' LIMIT ${BACKLOG_COUNT_CAP}) e) AS pending_events,
         (SELECT count(*) FROM webhook_endpoints WHERE status = 'disabled' AND deleted_at IS NULL) AS disabled_endpoints`,
    );
    const row = rows[0]!;
    return {
      pendingDeliveries: Number(row.pending_deliveries),
      oldestDueSeconds: Math.max(0, row.oldest_due_seconds ?? 0),
      pendingEvents: Number(row.pending_events),
      disabledEndpoints: Number(row.disabled_endpoints),
    };
  } catch {
    return undefined;
  }
}
