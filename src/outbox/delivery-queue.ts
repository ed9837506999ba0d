/**
 * The one retry mechanism for what Kassa delivers later (webhooks: `webhook_deliveries`; the notification
 * callback: `callback_notifications`). Each queue keeps its own table and its own outcome, but the rows share
 * one shape and one life:
 *
 * - a row is `pending` until an attempt settles it; `next_attempt_at` says when it is due, `attempt_count`
 *   how many attempts were made;
 * - a claim takes due rows, oldest due first, with `FOR UPDATE SKIP LOCKED` (several processes pass each other,
 *   never take one row twice), leases them (`lease_until`, `lease_token`) and counts the attempt before the
 *   send, so a worker that dies mid-send still uses the attempt up and its lease expires into a new claim;
 * - an outcome is written only while the lease token still matches (a lease that expired and was claimed again
 *   belongs to the new holder);
 * - when the next attempt is due, and whether there is one, is `retry-schedule.ts` (`judgeAttempt`).
 *
 * This file is the claim's SQL both queues run; the statements stay in their repositories
 * (`webhook-delivery.repository.ts`, `modules/callbacks/callback.repository.ts`), which join what each send needs.
 */

/** The tables that follow the shape above. */
export type DeliveryQueueTable = 'webhook_deliveries' | 'callback_notifications';

/**
 * `id = ANY (…)` of the up to `$1` due, unleased rows of `table`, locked for the claim. `= ANY (ARRAY(…))`
 * keeps the claim on primary keys: a join with a subquery or an unnest may be planned as a hash join over a
 * scan of the whole (large, growing) table.
 */
export function dueRowsToLease(table: DeliveryQueueTable, alias?: string): string {
  return `${alias ? `${alias}.` : ''}id = ANY (ARRAY(
              SELECT id FROM ${table}
               WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
               ORDER BY next_attempt_at LIMIT $1
               FOR UPDATE SKIP LOCKED))`;
}

/** The lease a claim sets: `$2` seconds from now, under the claimer's token `$3`. */
export const TAKE_LEASE = 'lease_until = now() + make_interval(secs => $2::float8), lease_token = $3';
