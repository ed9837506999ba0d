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
 * This file is the SQL both queues run for the claim and for an attempt's outcome, and the outcome a judged
 * attempt leads to; the statements stay in their repositories (`webhook-delivery.repository.ts`,
 * `modules/callbacks/callback.repository.ts`), which join what each send needs and write what each keeps
 * besides (a webhook's attempt rows and last answer; a notification's newer event).
 */

import type { AttemptVerdict } from './retry-schedule.ts';

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

/** How a claimed row ends its round: done, due again later, given up, or dropped unsent. */
export type DeliveryOutcome = 'succeeded' | 'retry' | 'failed' | 'canceled';

/** What an attempt (or a claim that sent nothing) writes back onto its leased row. */
export type LeasedOutcome = {
  leaseToken: string;
  outcome: DeliveryOutcome;
  /** For 'retry': seconds from now until the next attempt. */
  retryInSeconds: number | null;
  /** Why it failed or was canceled; null when it succeeded. */
  error: string | null;
};

/** The outcome of a judged attempt: a failure is retried while the schedule has a next attempt. */
export function outcomeOfVerdict(verdict: AttemptVerdict): Pick<LeasedOutcome, 'outcome' | 'retryInSeconds'> {
  if (verdict.result === 'succeeded') return { outcome: 'succeeded', retryInSeconds: null };
  return {
    outcome: verdict.retryInSeconds === null ? 'failed' : 'retry',
    retryInSeconds: verdict.retryInSeconds,
  };
}

/**
 * The SET list that writes an outcome onto a leased row and gives the lease back (the statement's WHERE
 * checks the lease token). Each value is an SQL expression: `outcome` (text), `retryInSeconds` (float8),
 * `error` (text). `superseded`, when given, is true for a row whose content changed since the claim: the
 * outcome no longer describes it, so it stays due at once, without an error.
 */
export function settleLeasedRow(values: {
  outcome: string;
  retryInSeconds: string;
  error: string;
  superseded?: string;
}): string {
  const { outcome, retryInSeconds, error } = values;
  const stale = values.superseded ? `${values.superseded} OR ` : '';
  const newer = values.superseded ? `WHEN ${values.superseded} THEN now() ` : '';
  return `status = CASE WHEN ${stale}${outcome} = 'retry' THEN 'pending' ELSE ${outcome} END,
           next_attempt_at = CASE ${newer}WHEN ${outcome} = 'retry' THEN now() + make_interval(secs => ${retryInSeconds})
                                  ELSE next_attempt_at END,
           completed_at = CASE WHEN ${stale}${outcome} = 'retry' THEN NULL ELSE now() END,
           last_error = CASE WHEN ${stale}${outcome} = 'succeeded' THEN NULL ELSE ${error} END,
           lease_until = NULL, lease_token = NULL`;
}
