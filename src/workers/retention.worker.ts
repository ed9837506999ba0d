import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import {
  daysBefore,
  pruneExpiredUnpaidCheckouts,
  pruneIdempotencyRecords,
  pruneThrottlingRows,
  pruneWebhookAttemptBodies,
  pruneWebhookHistory,
} from '../db/retention.repository.ts';

/**
 * Data retention (docs/operations.md, "Retention"): what is pruned, after the times in `config.retention`.
 * Money — payments, captures, refunds and their events — is kept forever and never selected here.
 *
 * Each kind is removed in batches of `batchSize` rows, one short statement or transaction per batch, until a
 * batch comes back short or the run has done `maxBatchesPerRun` batches (the rest waits for the next run), so
 * neither a long lock on a hot table nor a long-running worker run can come out of a large backlog (the first
 * run after an upgrade). Safe in several processes at once: rows are claimed with SKIP LOCKED or deleted by
 * `ctid`, and deleting a row twice deletes it once.
 */

export type RetentionCounts = {
  expiredCheckouts: number;
  webhookBodies: number;
  webhookHistory: number;
  idempotencyRecords: number;
  throttlingRows: number;
};

export async function runRetention(
  deps: { db: Database; config: Pick<Config, 'retention'>; now: Date },
  options: { maxBatchesPerRun?: number } = {},
): Promise<RetentionCounts> {
  const { db, now } = deps;
  const { retention } = deps.config;
  const limit = retention.batchSize;
  const maxBatches = options.maxBatchesPerRun ?? 20;
  const drain = async (batch: () => Promise<number>) => {
    let total = 0;
    for (let i = 0; i < maxBatches; i += 1) {
      const removed = await batch();
      total += removed;
      if (removed < limit) break;
    }
    return total;
  };
  return {
    expiredCheckouts: await drain(() =>
      pruneExpiredUnpaidCheckouts(db, daysBefore(now, retention.expiredCheckoutDays), limit),
    ),
    webhookBodies: await drain(() =>
      pruneWebhookAttemptBodies(db, daysBefore(now, retention.webhookBodyDays), limit),
    ),
    webhookHistory: await drain(() =>
      pruneWebhookHistory(db, daysBefore(now, retention.webhookHistoryDays), limit),
    ),
    idempotencyRecords: await drain(() =>
      pruneIdempotencyRecords(
        db,
        new Date(now.getTime() - retention.idempotencyHours * 3_600_000),
        now,
        limit,
      ),
    ),
    throttlingRows: await drain(() => pruneThrottlingRows(db, now, limit)),
  };
}
