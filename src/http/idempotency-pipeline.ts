import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database, Pending, UnitOfWork } from '../db/client.ts';
import { AppError } from '../lib/errors.ts';
import { requireMerchant } from './http.types.ts';
import {
  acceptedFingerprints,
  readIdempotencyKey,
  recordIdentity,
  replay,
  ReplayStored,
} from './idempotency.ts';
import {
  completeRecord,
  keyInUse,
  KeyRecordRaced,
  lockKeyAndFindRecord,
  queueClaimRecord,
  queueCompleteRecord,
  queueFreshClaim,
  queueLockKeyAndFindRecord,
  releaseRecord,
  retryWhenRaced,
} from './idempotency-record.ts';

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
 * The key's record written by the operation's own units of work (`respondIdempotentlyWithPipeline` with
 * `joined`), so the claim and the completion cost no round trips of their own:
 *
 * - `claim(tx)` queues the key's lock-and-find and the claim of a fresh key in the operation's FIRST unit of
 *   work, ahead of its load; the check it answers is awaited after the load and before anything is decided.
 *   It throws the key's refusal (409, 422, or a replay of the stored response), and the unit rolls back. From
 *   then on the key is claimed exactly as by the claim's own transaction: the claim commits with that unit.
 *   An operation that refuses after the check must still commit the unit (the claim), as if the claim had
 *   committed on its own before it (a retry may resume what exists under the key); the refusal is then
 *   handled as any refusal of `run`.
 * - `complete(tx, result)` queues the record's completion in the unit that settles the operation for good:
 *   the response is stored if and only if the operation's final state commits. An operation that completes
 *   no record this way (an answer still unknown, work left after its last unit) gets it completed afterwards.
 */
export type JoinedRecord = {
  claim(tx: UnitOfWork): () => Promise<void>;
  /** The first unit failed after the check, its claim rolled back with it: answers what to throw instead. */
  lost(error: unknown): unknown;
  complete(tx: UnitOfWork, result: PipelineResult): void;
  /**
   * Before the operation refuses on its own account with a side effect (an event), the key's verdict in a
   * transaction of its own: throws the replay of a stored answer, 409 while held or 422 for another request.
   */
  verdict(): Promise<void>;
};

/** The joined claim cannot judge the key (a record to take over, a race, a lost lookup): claim it on its own. */
class ClaimOnItsOwn extends Error {}

/**
 * Idempotency for operations that call a payment processor between transactions (`pipeline` routes):
 *
 * 1. the key is claimed: replay if completed, 409 while another holder's lease runs, 422 for a different
 *    request, otherwise an `in_progress` row with a lease (taken over when expired) — in one short
 *    transaction of its own, or (`joined`) in the operation's first unit of work (`JoinedRecord`);
 * 2. `run` executes the operation's own transactions and processor calls; it receives the key so it can
 *    derive deterministic ids (a retry then finds and resumes the same payment, never starts another);
 * 3. the record is completed with the response (`joined`: with the operation's last unit, when it can).
 *
 * A coded refusal (`AppError`) from `run` means nothing happened: the record is removed so the key can be
 * used again — unless this request took the record over from an earlier one whose lease had passed (that one
 * may still be running and complete it). An unexpected failure leaves the record for the lease to expire. A
 * refusal before a joined claim (nothing claimed) is answered after the key's verdict, which wins: a replay,
 * 409 or 422. Resolves, with nothing, once the answer has been sent (as `respondIdempotently`).
 */
export async function respondIdempotentlyWithPipeline(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Database,
  run: (context: {
    idempotencyKey: string | undefined;
    record?: JoinedRecord | undefined;
  }) => Promise<PipelineResult>,
  options: { joined?: boolean } = {},
): Promise<void> {
  const key = readIdempotencyKey(request);
  const send = async (result: PipelineResult, replayed: boolean): Promise<void> => {
    await (replayed
      ? replay(reply, { status: result.statusCode, body: result.body as string })
      : answer(reply, result.statusCode, JSON.stringify(result.body)));
  };
  if (key === undefined) return send(await run({ idempotencyKey: undefined }), false);
  if (options.joined) {
    try {
      return await runJoined(request, reply, db, key, run);
    } catch (error) {
      if (!(error instanceof ClaimOnItsOwn)) throw error;
    }
  }

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
      const claim = queueClaimRecord(
        tx,
        recordIdentity(request, merchantId, livemode, key, fingerprint),
        request.server.pipelineLeaseSeconds,
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
      await releaseRecord(db, merchantId, livemode, key);
    }
    throw error;
  }
  await completeRecord(
    db,
    merchantId,
    livemode,
    key,
    result.statusCode,
    request.server.idempotencyResponses.seal(JSON.stringify(result.body)),
  );
  return send(result, false);
}

/** Step 1 and 3 in the operation's own units of work (`JoinedRecord`); throws `ClaimOnItsOwn` to fall back. */
async function runJoined(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Database,
  key: string,
  run: (context: { idempotencyKey: string; record: JoinedRecord }) => Promise<PipelineResult>,
): Promise<void> {
  const { merchantId, livemode } = requireMerchant(request);
  const fingerprints = acceptedFingerprints(request);
  const identity = recordIdentity(request, merchantId, livemode, key, fingerprints[0]!);
  const responses = request.server.idempotencyResponses;
  let joined = false;
  let claimed = false;
  let verdict: unknown;
  let completion: { pending: Pending; body: string; statusCode: number } | undefined;
  const record: JoinedRecord = {
    claim(tx) {
      if (joined) throw new Error('the key is claimed once, in the operation’s first unit of work');
      joined = true;
      const lookUp = queueLockKeyAndFindRecord(tx, merchantId, livemode, key, fingerprints, (error) => {
        throw new ClaimOnItsOwn('the key lookup was lost with the statement it travelled with', {
          cause: error,
        });
      });
      const claim = queueFreshClaim(tx, identity, request.server.pipelineLeaseSeconds);
      return async () => {
        try {
          const { existing, now } = await lookUp(); // 409 while held, 422 for another request
          if (existing?.state === 'completed') {
            const body = responses.open(existing.response_body!);
            throw new ReplayStored({ status: existing.response_status!, body });
          }
          if (existing?.locked_until && existing.locked_until > now) throw keyInUse();
          // An expired lease to take over, or a record that appeared since the lookup's snapshot.
          if (existing || (await claim.result()).rowCount === 0) throw new ClaimOnItsOwn('claim on its own');
          claimed = true;
        } catch (error) {
          verdict = error;
          throw error;
        }
      };
    },
    lost(error) {
      claimed = false;
      return new ClaimOnItsOwn('the claim was rolled back with the unit it joined', { cause: error });
    },
    complete(tx, result) {
      if (!claimed) throw new Error('a record is completed only after it was claimed');
      const body = JSON.stringify(result.body);
      const pending = queueCompleteRecord(
        tx,
        merchantId,
        livemode,
        key,
        result.statusCode,
        responses.seal(body),
      );
      completion = { pending, body, statusCode: result.statusCode };
    },
    async verdict() {
      const { existing, now } = await db.transaction((tx) =>
        lockKeyAndFindRecord(tx, merchantId, livemode, key, fingerprints),
      );
      if (existing?.state === 'completed')
        throw new ReplayStored({
          status: existing.response_status!,
          body: responses.open(existing.response_body!),
        });
      if (existing?.locked_until && existing.locked_until > now) throw keyInUse();
    },
  };

  let result: PipelineResult;
  try {
    result = await run({ idempotencyKey: key, record });
  } catch (error) {
    if (error instanceof ReplayStored) {
      await replay(reply, error.stored);
      return;
    }
    if (error === verdict || error instanceof ClaimOnItsOwn) throw error;
    if (claimed) {
      if (error instanceof AppError) await releaseRecord(db, merchantId, livemode, key);
      throw error;
    }
    // Refused before the key was claimed: the key's verdict first (a replay, 409 or 422), then the refusal.
    try {
      await record.verdict();
    } catch (keyAnswer) {
      if (!(keyAnswer instanceof ReplayStored)) throw keyAnswer;
      await replay(reply, keyAnswer.stored);
      return;
    }
    throw error;
  }
  if (!claimed) throw new Error('the operation never claimed its key');
  // What was stored with the operation's last unit is exactly what is sent: a replay is byte-for-byte this answer.
  const statusCode = completion?.statusCode ?? result.statusCode;
  const body = completion?.body ?? JSON.stringify(result.body);
  if (completion) await completion.pending.result();
  else await completeRecord(db, merchantId, livemode, key, statusCode, responses.seal(body));
  await answer(reply, statusCode, body);
}

function answer(reply: FastifyReply, statusCode: number, body: string) {
  return reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .serializer((payload: unknown) => payload as string)
    .send(body);
}
