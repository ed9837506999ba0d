import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database, Queryable, Transaction } from '../db/client.ts';
import { AppError } from '../lib/errors.ts';
import type { Keyring } from '../lib/keyring.ts';
import { stableStringify } from '../lib/hashing.ts';
import { requireMerchant } from './http.types.ts';

/**
 * Idempotency for every POST (docs/api-conventions.md), one mechanism:
 *
 * - The key is scoped to (merchant, mode). Its record stores a fingerprint of method, path and body (keys
 *   sorted, so white space and key order do not matter) and the response.
 * - `transactional` routes: the record is inserted in the SAME transaction as the effect. It exists if and
 *   only if the effect committed, so a failed or rolled-back attempt (validation errors included) leaves
 *   nothing behind and may simply be retried.
 * - A request whose key is being executed right now gets 409 `idempotency_key_in_use`: the executing
 *   transaction holds a transaction-scoped advisory lock on the key, which is released at commit or rollback.
 * - Same key again: same fingerprint → the stored response with `Idempotent-Replayed: true`; another
 *   fingerprint → 422 `idempotency_key_reused`.
 * - Records are kept `KASSA_RETENTION_IDEMPOTENCY_HOURS` (24 by default), then pruned by the retention worker
 *   (`src/workers/retention.worker.ts`).
 */

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/; // visible ASCII, 1–255 characters

type StoredResponse = { status: number; body: string };

/**
 * Stored responses can hold secrets shown once (a webhook secret, a client token), so they are kept
 * encrypted (AES-256-GCM, a key derived from the master key) and opened only to replay them.
 */
export type ResponseSealer = { seal(body: string): string; open(stored: string): string };

export function createResponseSealer(keyring: Keyring): ResponseSealer {
  return {
    seal: (body) => keyring.encrypt('idempotency-response-encryption', body).toString('base64'),
    open: (stored) =>
      keyring.decrypt('idempotency-response-encryption', Buffer.from(stored, 'base64')).toString('utf8'),
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    idempotencyResponses: ResponseSealer;
    /** The lease of `pipeline` routes (`pipelineLeaseSeconds`), derived from the configured timeouts. */
    pipelineLeaseSeconds: number;
  }
}

export function readIdempotencyKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || !KEY_PATTERN.test(key)) {
    throw new AppError('idempotency_key_invalid', 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  return key;
}

export function fingerprintRequest(request: FastifyRequest): string {
  return fingerprintOf(request, request.body);
}

function fingerprintOf(request: FastifyRequest, body: unknown): string {
  const path = request.url.split('?')[0];
  return createHash('sha256')
    .update(`${request.method} ${path}\n${stableStringify(body ?? null)}`)
    .digest('hex');
}

const equivalentBodies = new WeakMap<FastifyRequest, readonly unknown[]>();

/**
 * Other forms of the request's body that are the same request: a route that keys part of its body before the
 * fingerprint (`POST /v1/payments` replaces the card by an HMAC of the master key) names the forms under the
 * previous master keys, so a request sent before a master-key rotation and retried after it with the same
 * Idempotency-Key is recognised (replayed, resumed), not refused as another request.
 */
export function setEquivalentBodies(request: FastifyRequest, bodies: readonly unknown[]): void {
  equivalentBodies.set(request, bodies);
}

/** The request's fingerprint first, then those of its equivalent bodies. */
function acceptedFingerprints(request: FastifyRequest): string[] {
  return [
    fingerprintRequest(request),
    ...(equivalentBodies.get(request) ?? []).map((body) => fingerprintOf(request, body)),
  ];
}

/** Two 32-bit halves of a digest of the scoped key, for pg_try_advisory_xact_lock(int, int). */
function advisoryLockIds(merchantId: string, livemode: boolean, key: string): [number, number] {
  const digest = createHash('sha256').update(`${merchantId}\n${livemode}\n${key}`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

type KeyRecord = {
  request_fingerprint: string;
  state: 'in_progress' | 'completed';
  locked_until: Date | null;
  response_status: number | null;
  response_body: string | null;
};

/**
 * The first step of both modes, in one round trip: take the key's transaction-scoped advisory lock (409 when
 * another request holds it) and read its record (422 when it belongs to a different request), plus the
 * database's clock for lease checks.
 *
 * The record is read with the statement's snapshot, taken just before the lock: a request that committed the
 * record and released the lock in between is not seen. The record's insert then finds the key taken, and the
 * caller runs the whole step again (`KeyRecordRaced`), which sees the record and replays it.
 */
const LOCK_KEY_AND_FIND_RECORD = `SELECT pg_try_advisory_xact_lock($1, $2) AS locked, now() AS now,
       k.request_fingerprint, k.state, k.locked_until, k.response_status, k.response_body
     FROM (VALUES (1)) AS one
     LEFT JOIN idempotency_keys k ON k.merchant_id = $3 AND k.livemode = $4 AND k.idempotency_key = $5`;

type KeyLookupRow = { locked: boolean; now: Date } & { [K in keyof KeyRecord]: KeyRecord[K] | null };
type KeyLookup = { existing: KeyRecord | undefined; now: Date };

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

async function lockKeyAndFindRecord(
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

/** Thrown inside a transaction when the key's record appeared after its snapshot; the caller tries again. */
class KeyRecordRaced extends Error {}

/** Runs `attempt` again (a few times) when it lost the race described at `lockKeyAndFindRecord`. */
async function retryWhenRaced<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof KeyRecordRaced)) throw error;
      if (tries >= 3) throw keyInUse();
    }
  }
}

/** The first six columns of a key's record: whose key, and which request it belongs to. */
function recordIdentity(
  request: FastifyRequest,
  merchantId: string,
  livemode: boolean,
  key: string,
  fingerprint: string,
): unknown[] {
  return [merchantId, livemode, key, request.method, request.url.split('?')[0], fingerprint];
}

function replay(reply: FastifyReply, stored: StoredResponse) {
  return reply
    .code(stored.status)
    .header('idempotent-replayed', 'true')
    .type('application/json; charset=utf-8')
    .serializer((payload: unknown) => payload as string)
    .send(stored.body);
}

/** Thrown to roll back an attempt whose key already has a completed record; the record is replayed. */
class ReplayStored extends Error {
  constructor(readonly stored: StoredResponse) {
    super('replay the stored response');
  }
}

/** Thrown when the statement the key's lookup travelled with failed, taking the lookup's answer with it. */
class KeyLookupLost extends Error {}

/**
 * Runs `effect` in a transaction and answers `statusCode` with its result, honouring Idempotency-Key.
 * Use it from every merchant POST route whose effect is database-only. Resolves, with nothing, once the
 * answer has been sent (a Fastify reply is thenable: resolving with the reply would hand the caller `undefined`
 * and suggest otherwise); the route then returns `reply` or this promise.
 *
 * The key's lock-and-find does not cost a round trip of its own: it is deferred (`tx.deferRead`) and travels
 * with the effect's first statement. Its verdict is checked before anything commits, and wins over whatever
 * the effect did: for a key that is held (409), another request's (422) or already answered (replay), the
 * effect is rolled back unseen. Only if the statement it travelled with failed — its answer lost with it —
 * is the attempt run again the careful way, lookup first.
 */
export async function respondIdempotently<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Database,
  statusCode: number,
  effect: (tx: Transaction) => Promise<T>,
): Promise<void> {
  const key = readIdempotencyKey(request);
  if (key === undefined) {
    const result = await db.transaction(effect);
    await reply.code(statusCode).send(result);
    return;
  }
  const { merchantId, livemode } = requireMerchant(request);
  const fingerprints = acceptedFingerprints(request);
  const fingerprint = fingerprints[0]!;

  const attempt = (careful: boolean) =>
    db
      .transaction(async (tx) => {
        let lookUp: () => Promise<KeyLookup>;
        if (careful) {
          const found = await lockKeyAndFindRecord(tx, merchantId, livemode, key, fingerprints);
          lookUp = async () => found;
        } else {
          const pending = tx.write<KeyLookupRow>(
            LOCK_KEY_AND_FIND_RECORD,
            lockKeyValues(merchantId, livemode, key),
          );
          lookUp = () =>
            pending.result().then(
              ({ rows }) => judgeKeyLookup(rows[0]!, fingerprints),
              (error: unknown) => {
                throw new KeyLookupLost('the key lookup was lost with the statement it travelled with', {
                  cause: error,
                });
              },
            );
        }
        const refuseTakenKey = async () => {
          const { existing } = await lookUp();
          if (!existing) return;
          if (existing.state === 'in_progress') throw keyInUse();
          const body = request.server.idempotencyResponses.open(existing.response_body!);
          throw new ReplayStored({ status: existing.response_status!, body });
        };
        if (careful) await refuseTakenKey();

        let result: T;
        try {
          result = await effect(tx);
        } catch (error) {
          await refuseTakenKey(); // the key's verdict first
          throw error;
        }
        await refuseTakenKey();
        // Serialise exactly as the response will be, so a replay is byte-for-byte the first answer.
        const body = JSON.stringify(result);
        // The record is the unit's last write, committed with the effect. It must fail, not skip, on a taken
        // key: a failed write stops the COMMIT, so the effect is rolled back and the step runs again to replay.
        tx.write(
          `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
           request_fingerprint, state, response_status, response_body, completed_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'completed', $7, $8, now())`,
          [
            ...recordIdentity(request, merchantId, livemode, key, fingerprint),
            statusCode,
            request.server.idempotencyResponses.seal(body),
          ],
        );
        return body;
      })
      .catch((error: unknown) => {
        const { code, constraint } = error as { code?: string; constraint?: string };
        if (code === '23505' && constraint === 'idempotency_keys_pkey') throw new KeyRecordRaced();
        throw error;
      });

  let body: string;
  try {
    body = await retryWhenRaced(() =>
      attempt(false).catch((error: unknown) => {
        if (error instanceof KeyLookupLost) return attempt(true);
        throw error;
      }),
    );
  } catch (error) {
    if (error instanceof ReplayStored) {
      await replay(reply, error.stored);
      return;
    }
    throw error;
  }
  await reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .serializer((payload: unknown) => payload as string)
    .send(body);
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

/** The shortest lease, whatever the configured timeouts: a slow database alone can take seconds. */
export const MIN_PIPELINE_LEASE_SECONDS = 20;
/** Added to the pipeline's bound for its database work (claims, transactions, the record's completion). */
const PIPELINE_LEASE_MARGIN_MS = 10_000;

/**
 * How long an `in_progress` record blocks its key: longer than every step inside the pipeline can take while
 * its process lives (`boundMs`: for payments, the `verify_order` exchange and the processor calls, from the
 * configured callback and processor timeouts — `PaymentFlow.attemptBoundMs`), plus a margin. A retry during
 * that time gets 409 `idempotency_key_in_use`, so it never resumes an attempt whose `verify_order` may still
 * answer "refused": a refusal always wins. A request that crashed mid-way (process killed) leaves its record
 * behind; once the lease has passed, a retry with the same key takes over and resumes.
 */
export function pipelineLeaseSeconds(boundMs: number): number {
  return Math.max(MIN_PIPELINE_LEASE_SECONDS, Math.ceil((boundMs + PIPELINE_LEASE_MARGIN_MS) / 1000));
}

export type PipelineResult = { statusCode: number; body: unknown };

/**
 * Idempotency for operations that call a payment processor between transactions (`pipeline` routes):
 *
 * 1. one short transaction claims the key: replay if completed, 409 while another holder's lease runs,
 *    422 for a different request, otherwise an `in_progress` row with a lease (taken over when expired);
 * 2. `run` executes the operation's own transactions and processor calls; it receives the key so it can
 *    derive deterministic ids (a retry then finds and resumes the same payment, never starts another);
 * 3. the record is completed with the response.
 *
 * A coded refusal (`AppError`) from `run` means nothing happened: the record is removed so the key can be
 * used again — unless this request took the record over from an earlier one whose lease had passed (that one
 * may still be running and complete it). An unexpected failure leaves the record for the lease to expire. Resolves, with nothing, once the
 * answer has been sent (as `respondIdempotently`).
 */
export async function respondIdempotentlyWithPipeline(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Database,
  run: (context: { idempotencyKey: string | undefined }) => Promise<PipelineResult>,
): Promise<void> {
  const key = readIdempotencyKey(request);
  const send = async (result: PipelineResult, replayed: boolean): Promise<void> => {
    await (replayed
      ? replay(reply, { status: result.statusCode, body: result.body as string })
      : reply
          .code(result.statusCode)
          .type('application/json; charset=utf-8')
          .serializer((payload: unknown) => payload as string)
          .send(JSON.stringify(result.body)));
  };
  if (key === undefined) return send(await run({ idempotencyKey: undefined }), false);

  const { merchantId, livemode } = requireMerchant(request);
  const fingerprints = acceptedFingerprints(request);
  const claim = await retryWhenRaced(async () => {
    const claimed = await db.transaction(async (tx) => {
      const { existing, now } = await lockKeyAndFindRecord(tx, merchantId, livemode, key, fingerprints);
      // A record made before a master-key rotation keeps the fingerprint it was made with.
      const fingerprint = existing?.request_fingerprint ?? fingerprints[0]!;
      if (existing?.state === 'completed') {
        const replay: PipelineResult = {
          statusCode: existing.response_status!,
          body: request.server.idempotencyResponses.open(existing.response_body!),
        };
        return { replay, claim: undefined, tookOver: false };
      }
      if (existing && existing.locked_until && existing.locked_until > now) throw keyInUse();
      // Takes over only a record that is still in progress with an expired lease; anything else means the
      // record changed after this transaction's snapshot (see KeyRecordRaced). A claim that took nothing
      // commits nothing but the released lock.
      const claim = tx.write(
        `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
         request_fingerprint, state, locked_until)
       VALUES ($1, $2, $3, $4, $5, $6, 'in_progress', now() + make_interval(secs => $7))
       ON CONFLICT (merchant_id, livemode, idempotency_key)
       DO UPDATE SET locked_until = now() + make_interval(secs => $7)
       WHERE idempotency_keys.state = 'in_progress' AND idempotency_keys.request_fingerprint = $6
         AND idempotency_keys.locked_until <= now()`,
        [
          ...recordIdentity(request, merchantId, livemode, key, fingerprint),
          request.server.pipelineLeaseSeconds,
        ],
      );
      return { replay: undefined, claim, tookOver: existing !== undefined };
    });
    if (claimed.claim && (await claimed.claim.result()).rowCount === 0) throw new KeyRecordRaced();
    return claimed;
  });
  if (claim.replay) return send(claim.replay, true);

  let result: PipelineResult;
  try {
    result = await run({ idempotencyKey: key });
  } catch (error) {
    // A retry that took over an expired lease and was refused (an attempt still being verified elsewhere:
    // 409 `payment_in_progress`) leaves the record: the key is not free, and the request that still runs
    // completes it.
    if (error instanceof AppError && !claim.tookOver) {
      await db.query(
        `DELETE FROM idempotency_keys WHERE merchant_id = $1 AND livemode = $2 AND idempotency_key = $3 AND state = 'in_progress'`,
        [merchantId, livemode, key],
      );
    }
    throw error;
  }
  await db.query(
    `UPDATE idempotency_keys SET state = 'completed', locked_until = NULL, response_status = $4, response_body = $5,
       completed_at = now()
     WHERE merchant_id = $1 AND livemode = $2 AND idempotency_key = $3`,
    [
      merchantId,
      livemode,
      key,
      result.statusCode,
      request.server.idempotencyResponses.seal(JSON.stringify(result.body)),
    ],
  );
  return send(result, false);
}
