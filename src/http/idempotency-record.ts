import { createHash } from 'node:crypto';
import type { Queryable, Transaction, UnitOfWork } from '../db/client.ts';
import { AppError } from '../lib/errors.ts';

/**
 * The idempotency record of a key (`idempotency_keys`): its advisory lock, its reads and writes, and the two
 * refusals it can answer (409 held, 422 another request's). `idempotency.ts` says how requests use it; this file
 * is only what the table and the lock do.
 */

/** Whose key, and which request it belongs to: the first six columns of its record. */
export type RecordIdentity = {
  merchantId: string;
  livemode: boolean;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
};

export type KeyRecord = {
  request_fingerprint: string;
  state: 'in_progress' | 'completed';
  locked_until: Date | null;
  response_status: number | null;
  response_body: string | null;
};

export type KeyLookup = { existing: KeyRecord | undefined; now: Date };

/** Two 32-bit halves of a digest of the scoped key, for pg_try_advisory_xact_lock(int, int). */
function advisoryLockIds(merchantId: string, livemode: boolean, key: string): [number, number] {
  const digest = createHash('sha256').update(`${merchantId}\n${livemode}\n${key}`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/**
 * The first step of both modes, in one round trip: take the key's transaction-scoped advisory lock (409 when
 * another request holds it) and read its record (422 when it belongs to a different request), plus the
 * database's clock for lease checks.
 *
 * The record is read with the statement's snapshot, taken just before the lock: a request that committed the
 * record and released the lock in between is not seen. The record's insert then finds the key taken, and the
 * caller runs the whole step again (`KeyRecordRaced`), which sees the record and replays it.
 */
/** Exported for bench/explain-hot.ts, which explains the statement the gateway sends. */
export const LOCK_KEY_AND_FIND_RECORD = `SELECT pg_try_advisory_xact_lock($1, $2) AS locked, now() AS now,
       k.request_fingerprint, k.state, k.locked_until, k.response_status, k.response_body
     FROM (VALUES (1)) AS one
     LEFT JOIN idempotency_keys k ON k.merchant_id = $3 AND k.livemode = $4 AND k.idempotency_key = $5`;

type KeyLookupRow = { locked: boolean; now: Date } & { [K in keyof KeyRecord]: KeyRecord[K] | null };

function lockKeyValues(merchantId: string, livemode: boolean, key: string): unknown[] {
  return [...advisoryLockIds(merchantId, livemode, key), merchantId, livemode, key];
}

/** What the lock-and-find answered: 409 when the key is held, 422 when it is another request's. */
function judgeKeyLookup(row: KeyLookupRow, fingerprints: readonly string[]): KeyLookup {
  if (!row.locked) throw keyInUse();
  if (row.request_fingerprint === null) return { existing: undefined, now: row.now };
  if (!fingerprints.includes(row.request_fingerprint)) throw keyReused();
  return { existing: row as KeyRecord, now: row.now };
}

export async function lockKeyAndFindRecord(
  tx: Queryable,
  merchantId: string,
  livemode: boolean,
  key: string,
  fingerprints: readonly string[],
): Promise<KeyLookup> {
  const { rows } = await tx.query<KeyLookupRow>(
    LOCK_KEY_AND_FIND_RECORD,
    lockKeyValues(merchantId, livemode, key),
  );
  return judgeKeyLookup(rows[0]!, fingerprints);
}

/**
 * The lock-and-find queued with the transaction's next statement instead of sent on its own; the answer is read
 * when asked for. When the statement it travelled with failed, its answer is lost with it: `whenLost` says what
 * to throw instead.
 */
export function queueLockKeyAndFindRecord(
  tx: UnitOfWork,
  merchantId: string,
  livemode: boolean,
  key: string,
  fingerprints: readonly string[],
  whenLost: (error: unknown) => never,
): () => Promise<KeyLookup> {
  const pending = tx.write<KeyLookupRow>(LOCK_KEY_AND_FIND_RECORD, lockKeyValues(merchantId, livemode, key));
  return () => pending.result().then(({ rows }) => judgeKeyLookup(rows[0]!, fingerprints), whenLost);
}

/** Thrown inside a transaction when the key's record appeared after its snapshot; the caller tries again. */
export class KeyRecordRaced extends Error {}

/** Whether a failed statement was a record's insert that found the key taken (see `KeyRecordRaced`). */
export function isKeyTaken(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'idempotency_keys_pkey';
}

/** Runs `attempt` again (a few times) when it lost the race described at `lockKeyAndFindRecord`. */
export async function retryWhenRaced<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof KeyRecordRaced)) throw error;
      if (tries >= 3) throw keyInUse();
    }
  }
}

function identityValues(identity: RecordIdentity): unknown[] {
  const { merchantId, livemode, key, method, path, fingerprint } = identity;
  return [merchantId, livemode, key, method, path, fingerprint];
}

/**
 * Queues the completed record, the unit's last write, committed with the effect. It must fail, not skip, on a
 * taken key: a failed write stops the COMMIT, so the effect is rolled back and the step runs again to replay.
 */
export function queueCompletedRecord(
  tx: Transaction,
  identity: RecordIdentity,
  status: number,
  sealedBody: string,
): void {
  tx.write(
    `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
           request_fingerprint, state, response_status, response_body, completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'completed', $7, $8, now())`,
    [...identityValues(identity), status, sealedBody],
  );
}

const CLAIM_VALUES = `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
         request_fingerprint, state, locked_until)
       VALUES ($1, $2, $3, $4, $5, $6, 'in_progress', now() + make_interval(secs => $7))`;

/**
 * Queues the claim of a key for a pipeline: an `in_progress` record with a lease. Takes over only a record
 * that is still in progress with an expired lease; anything else means the record changed after this
 * transaction's snapshot (see KeyRecordRaced), and the claim's row count is 0. A claim that took nothing
 * commits nothing but the released lock.
 */
export function queueClaimRecord(tx: Transaction, identity: RecordIdentity, leaseSeconds: number) {
  return tx.write(
    `${CLAIM_VALUES}
       ON CONFLICT (merchant_id, livemode, idempotency_key)
       DO UPDATE SET locked_until = now() + make_interval(secs => $7)
       WHERE idempotency_keys.state = 'in_progress' AND idempotency_keys.request_fingerprint = $6
         AND idempotency_keys.locked_until <= now()`,
    [...identityValues(identity), leaseSeconds],
  );
}

/**
 * Queues the claim of a key that has no record yet, sent before its lookup is answered (the claim joins the
 * operation's first unit of work): row count 0 when a record exists. It never locks an existing record (an
 * `ON CONFLICT … DO UPDATE` would, even when its condition refuses), so it cannot wait on a unit that holds
 * that record and the operation's own rows; taking over an expired lease is `queueClaimRecord`'s.
 */
export function queueFreshClaim(tx: UnitOfWork, identity: RecordIdentity, leaseSeconds: number) {
  return tx.write(`${CLAIM_VALUES} ON CONFLICT (merchant_id, livemode, idempotency_key) DO NOTHING`, [
    ...identityValues(identity),
    leaseSeconds,
  ]);
}

const COMPLETE_RECORD = `UPDATE idempotency_keys SET state = 'completed', locked_until = NULL, response_status = $4, response_body = $5,
       completed_at = now()
     WHERE merchant_id = $1 AND livemode = $2 AND idempotency_key = $3`;

/** Completes a pipeline's record with its response. */
export async function completeRecord(
  db: Queryable,
  merchantId: string,
  livemode: boolean,
  key: string,
  status: number,
  sealedBody: string,
): Promise<void> {
  await db.query(COMPLETE_RECORD, [merchantId, livemode, key, status, sealedBody]);
}

/** `completeRecord` queued in the unit of work that settles the operation: committed with it, or not at all. */
export function queueCompleteRecord(
  tx: UnitOfWork,
  merchantId: string,
  livemode: boolean,
  key: string,
  status: number,
  sealedBody: string,
) {
  return tx.write(COMPLETE_RECORD, [merchantId, livemode, key, status, sealedBody]);
}

/** Removes a pipeline's record that is still in progress, freeing the key. */
export async function releaseRecord(
  db: Queryable,
  merchantId: string,
  livemode: boolean,
  key: string,
): Promise<void> {
  await db.query(
    `DELETE FROM idempotency_keys WHERE merchant_id = $1 AND livemode = $2 AND idempotency_key = $3 AND state = 'in_progress'`,
    [merchantId, livemode, key],
  );
}

export function keyInUse(): AppError {
  return new AppError(
    'idempotency_key_in_use',
    'A request with this Idempotency-Key is still being processed; retry shortly',
    {
      headers: { 'retry-after': '1' },
    },
  );
}

export function keyReused(): AppError {
  return new AppError(
    'idempotency_key_reused',
    'This Idempotency-Key was already used with a different method, path or body; use a new key for a new request',
  );
}
