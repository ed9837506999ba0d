import type { Database, Queryable } from './client.ts';
import { PLANNED_PER_CALL } from './client.ts';

/**
 * The SQL of data retention (docs/operations.md, "Retention"). Each function removes at most `limit` rows of
 * one kind in one short statement or transaction, so a run never holds locks on a hot table for long; the
 * worker calls them again until a batch comes back short.
 *
 * Kept forever, never touched here: payments, captures, refunds, their events, and anything of a checkout that
 * had a payment attempt. Only checkouts that expired with no attempt at all are deleted.
 */

const DAY_MS = 86_400_000;

/** Checkouts that expired unpaid before the cutoff: the checkout, its order, its events and their deliveries. */
export async function pruneExpiredUnpaidCheckouts(
  db: Database,
  cutoff: Date,
  limit: number,
): Promise<number> {
  return db.transaction(async (tx) => {
    // SKIP LOCKED: a row some request holds right now waits for the next run instead of blocking this one.
    const { rows } = await tx.query<{ id: string }>(
      `${PLANNED_PER_CALL}SELECT c.id FROM checkouts c
        WHERE c.status = 'EXPIRED' AND NOT c.payment_started AND c.expired_at < $1
          AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.checkout_id = c.id)
        ORDER BY c.expired_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED`,
      [cutoff, limit],
    );
    const checkoutIds = rows.map((row) => row.id);
    if (checkoutIds.length === 0) return 0;
    const orders = await tx.query<{ id: string }>('SELECT id FROM orders WHERE checkout_id = ANY($1)', [
      checkoutIds,
    ]);
    const orderIds = orders.rows.map((row) => row.id);
    // Events of these checkouts and orders that name no payment (a payment's events are money: kept).
    const events = await tx.query<{ id: string }>(
      `SELECT id FROM events WHERE (checkout_id = ANY($1) OR order_id = ANY($2)) AND payment_id IS NULL`,
      [checkoutIds, orderIds],
    );
    const eventIds = events.rows.map((row) => row.id);
    if (eventIds.length > 0) {
      await tx.query(
        `DELETE FROM webhook_delivery_attempts WHERE delivery_id IN
           (SELECT id FROM webhook_deliveries WHERE event_id = ANY($1))`,
        [eventIds],
      );
      await tx.query('DELETE FROM webhook_deliveries WHERE event_id = ANY($1)', [eventIds]);
      await tx.query('DELETE FROM events WHERE id = ANY($1)', [eventIds]);
    }
    await tx.query('DELETE FROM callback_attempts WHERE checkout_id = ANY($1) AND notification_id IS NULL', [
      checkoutIds,
    ]);
    await tx.query('DELETE FROM orders WHERE id = ANY($1)', [orderIds]);
    await tx.query('DELETE FROM checkouts WHERE id = ANY($1)', [checkoutIds]);
    return checkoutIds.length;
  });
}

/** Response bodies of attempts of finished deliveries, attempted before the cutoff; the attempt rows stay. */
export async function pruneWebhookAttemptBodies(db: Queryable, cutoff: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `${PLANNED_PER_CALL}UPDATE webhook_delivery_attempts SET response_excerpt = NULL, response_truncated = false
      WHERE ctid IN (
        SELECT a.ctid FROM webhook_delivery_attempts a
          JOIN webhook_deliveries d ON d.id = a.delivery_id
         WHERE a.response_excerpt IS NOT NULL AND a.attempted_at < $1 AND d.status <> 'pending'
         LIMIT $2)`,
    [cutoff, limit],
  );
  return rowCount ?? 0;
}

/** Finished deliveries created before the cutoff, with their attempts. The events stay. */
export async function pruneWebhookHistory(db: Database, cutoff: Date, limit: number): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `${PLANNED_PER_CALL}SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1
        LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [cutoff, limit],
    );
    const ids = rows.map((row) => row.id);
    if (ids.length === 0) return 0;
    await tx.query('DELETE FROM webhook_delivery_attempts WHERE delivery_id = ANY($1)', [ids]);
    await tx.query('DELETE FROM webhook_deliveries WHERE id = ANY($1)', [ids]);
    return ids.length;
  });
}

/**
 * Idempotency records created before the cutoff: completed ones, and in-progress ones whose lease has run out
 * (a live lease is a request still running; its record must stay until it completes).
 */
export async function pruneIdempotencyRecords(
  db: Queryable,
  cutoff: Date,
  now: Date,
  limit: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `${PLANNED_PER_CALL}DELETE FROM idempotency_keys WHERE ctid IN (
       SELECT ctid FROM idempotency_keys
        WHERE created_at < $1 AND (state = 'completed' OR locked_until < $2)
        LIMIT $3)`,
    [cutoff, now, limit],
  );
  return rowCount ?? 0;
}

/** Failed-authentication counters whose window has passed (`expire` is epoch milliseconds). */
export async function pruneThrottlingRows(db: Queryable, now: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `${PLANNED_PER_CALL}DELETE FROM auth_failures WHERE ctid IN (
       SELECT ctid FROM auth_failures WHERE expire < $1 LIMIT $2)`,
    [now.getTime(), limit],
  );
  return rowCount ?? 0;
}

export function daysBefore(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS);
}
