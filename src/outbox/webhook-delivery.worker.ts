import type { Database } from '../db/client.ts';
import { EgressError, type EgressClient } from '../egress/index.ts';
import type { Clock } from '../lib/clock.ts';
import { newSecret } from '../lib/ids.ts';
import type { Keyring } from '../lib/keyring.ts';
import { fanOutPendingEvents } from './fan-out.repository.ts';
import { createDoorbell, runPollingLoop, type Doorbell } from './loop.ts';
import type { OutboxSignal } from './outbox-signal.ts';
import { judgeAttempt, retryDelaySeconds, type AttemptObservation } from './retry-schedule.ts';
import {
  cancelPendingDeliveries,
  claimDueDeliveries,
  disableGoneEndpoints,
  recordAttemptResults,
  releaseDeliveryLeases,
  type AttemptRecord,
  type ClaimedDelivery,
} from './webhook-delivery.repository.ts';
import { buildWebhookHeaders, buildWebhookPayloadFromJson } from './webhook-signer.ts';
import { continueTrace, runInTrace, type Metrics, type Tracer } from '../metrics/index.ts';

/**
 * The webhook delivery worker of one gateway process. Three loops share a queue of leased deliveries:
 * - fan-out: pending events → delivery rows; the first attempts come back already leased to us;
 * - claim: leases due deliveries (retries, and first attempts nobody took yet) in batches;
 * - record: writes finished attempts back, many per statement.
 * Sends run concurrently, at most `concurrency` at a time, so one slow receiver never holds up the others.
 * The loops use separate connections, so the database works on fan-out, claims and results in parallel.
 *
 * Invariants:
 * - All state is in the database: a delivery is sent only under its lease, and its result is written only
 *   while the lease is still ours. A crash loses at most the results not yet written; those deliveries come
 *   back when their leases expire and are sent again with the same `webhook-id` (at-least-once).
 * - A queued delivery is started only while enough of its lease remains for a whole attempt; otherwise its
 *   lease is given back — so two processes never send one delivery at the same time in the normal case.
 * - `stop()` starts nothing new, gives back unsent leases, waits (bounded) for sends in flight and records
 *   their results.
 */

export const RESPONSE_EXCERPT_BYTES = 4096;
const ENDPOINT_GONE_REASON = 'The endpoint answered 410 Gone to a webhook delivery';
const RECORD_COALESCE_MS = 10;
const SECRET_CACHE_ENTRIES = 1_000;
const DUE_BUCKET_MS = 10;

export type WebhookWorkerLogger = {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
};

export type WebhookDeliveryWorkerOptions = {
  db: Database;
  egress: EgressClient;
  keyring: Keyring;
  clock: Clock;
  logger: WebhookWorkerLogger;
  signal?: OutboxSignal;
  retrySchedule: readonly number[];
  leaseSeconds: number;
  /** Sends in flight at once, per process. */
  concurrency?: number;
  /** Deliveries leased per claim; also the most the local queue holds. */
  claimBatchSize?: number;
  /** Events fanned out per transaction. */
  fanOutBatchSize?: number;
  /** Polling interval right after work was found, and the ceiling it backs off to when idle. */
  minPollMs?: number;
  maxPollMs?: number;
  /** The longest one attempt can take (the egress client's deadline). */
  attemptTimeoutMs?: number;
  /** How long `stop()` waits for sends in flight. */
  stopTimeoutMs?: number;
  random?: () => number;
  metrics?: Pick<Metrics, 'webhookDeliveries'>;
  /** Span export (src/metrics/tracing.ts): each attempt is a client span in the trace of its event. */
  tracer?: Tracer | undefined;
};

export type WebhookDeliveryWorker = {
  start(): void;
  /** Look for work now (new events or deliveries were committed in this process). */
  wake(): void;
  stop(): Promise<void>;
};

type Queued = { claimed: ClaimedDelivery; startBy: number };
type Finished = { record: AttemptRecord; endpointGone: boolean; endpointId: string };

export function createWebhookDeliveryWorker(options: WebhookDeliveryWorkerOptions): WebhookDeliveryWorker {
  const { db, egress, keyring, clock, logger } = options;
  const concurrency = options.concurrency ?? 64;
  const claimBatchSize = options.claimBatchSize ?? 200;
  const fanOutBatchSize = options.fanOutBatchSize ?? 200;
  const minPollMs = options.minPollMs ?? 100;
  const maxPollMs = options.maxPollMs ?? 1_000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 28_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  const random = options.random ?? Math.random;
  const leaseMs = options.leaseSeconds * 1000;
  // A delivery must START early enough in its lease that a full attempt still ends inside it. Leases shorter
  // than two attempts (tests) keep half the lease for the attempt.
  const startBudgetMs = Math.max(leaseMs - attemptTimeoutMs - 2_000, leaseMs / 2);

  const queue: Queued[] = [];
  const inFlight = new Set<Promise<void>>();
  let finished: Finished[] = [];
  const unsent: ClaimedDelivery[] = [];
  /**
   * When retries we scheduled fall due, rounded up to DUE_BUCKET_MS. Only retries due before the next idle
   * poll are kept (later ones are found by polling), so the set stays small and short delays are exact.
   */
  const dueSoon = new Set<number>();
  let lastClaimWasFull = false;
  let stopping = false;
  let loops: Promise<void>[] = [];
  let unsubscribe: (() => void) | undefined;
  let recordTimer: NodeJS.Timeout | undefined;
  /** Decrypted secrets by ciphertext: a rotated secret has a new ciphertext, so entries never go stale. */
  const secretCache = new Map<string, string>();
  const fanOutBell = createDoorbell();
  const claimBell = createDoorbell();
  const recordBell = createDoorbell();

  function wake() {
    fanOutBell.ring();
    claimBell.ring();
  }

  function roomInQueue() {
    return Math.max(0, claimBatchSize - queue.length);
  }

  function enqueue(deliveries: ClaimedDelivery[], leasedAt: number) {
    for (const claimed of deliveries) queue.push({ claimed, startBy: leasedAt + startBudgetMs });
    pump();
  }

  function pump() {
    while (!stopping && inFlight.size < concurrency && queue.length > 0) {
      const item = queue.shift()!;
      if (performance.now() > item.startBy) {
        unsent.push(item.claimed);
        continue;
      }
      const task: Promise<void> = deliver(item.claimed)
        .then((result) => {
          finished.push(result);
        })
        .catch((error: unknown) => {
          // A bug, not the receiver's doing. Still record a failure, so the delivery runs out of attempts
          // instead of coming back at every lease expiry forever.
          logger.error({ err: error, delivery: item.claimed.id }, 'webhook send crashed');
          const retryInSeconds = retryDelaySeconds(options.retrySchedule, item.claimed.attemptNumber, random);
          finished.push({
            record: {
              deliveryId: item.claimed.id,
              leaseToken: item.claimed.leaseToken,
              outcome: retryInSeconds === null ? 'failed' : 'retry',
              retryInSeconds,
              error: 'internal_error: the attempt failed inside Kassa',
              attempt: null,
            },
            endpointGone: false,
            endpointId: item.claimed.endpointId,
          });
        })
        .finally(() => {
          inFlight.delete(task);
          pump();
          // Results wait a few milliseconds so that many share one statement.
          recordTimer ??= setTimeout(() => {
            recordTimer = undefined;
            recordBell.ring();
          }, RECORD_COALESCE_MS);
          if (lastClaimWasFull && queue.length < concurrency) claimBell.ring();
        });
      inFlight.add(task);
    }
  }

  async function deliver(claimed: ClaimedDelivery): Promise<Finished> {
    const base = { deliveryId: claimed.id, leaseToken: claimed.leaseToken };
    if (!claimed.endpointActive) {
      return {
        record: {
          ...base,
          outcome: 'canceled',
          retryInSeconds: null,
          error: 'The endpoint was disabled or deleted',
          attempt: null,
        },
        endpointGone: false,
        endpointId: claimed.endpointId,
      };
    }
    const attemptedAt = clock.now();
    const started = performance.now();
    // Sent in the trace of the request that caused the event (stored with it), not the worker's.
    const { observation, excerpt, truncated } = await runInTrace(
      continueTrace(claimed.traceparent, options.tracer),
      () => signAndSend(claimed, attemptedAt),
    );
    const latencyMs = Math.round(performance.now() - started);
    const verdict = judgeAttempt(observation, {
      attemptNumber: claimed.attemptNumber,
      schedule: options.retrySchedule,
      now: clock.now(),
      random,
    });
    const attempt = {
      number: claimed.attemptNumber,
      attemptedAt,
      url: claimed.url,
      statusCode: observation.kind === 'response' ? observation.status : null,
      latencyMs,
      responseExcerpt: excerpt,
      responseTruncated: truncated,
    };
    if (verdict.result === 'succeeded') {
      return {
        record: { ...base, outcome: 'succeeded', retryInSeconds: null, error: null, attempt },
        endpointGone: false,
        endpointId: claimed.endpointId,
      };
    }
    return {
      record: {
        ...base,
        outcome: verdict.retryInSeconds === null ? 'failed' : 'retry',
        retryInSeconds: verdict.retryInSeconds,
        error: verdict.error,
        attempt,
      },
      endpointGone: verdict.disableEndpoint,
      endpointId: claimed.endpointId,
    };
  }

  /** One HTTP attempt. Never throws: every failure, signing included, becomes an error observation. */
  async function signAndSend(
    claimed: ClaimedDelivery,
    attemptedAt: Date,
  ): Promise<{ observation: AttemptObservation; excerpt: string | null; truncated: boolean }> {
    const payload = buildWebhookPayloadFromJson({
      type: claimed.eventType,
      apiVersion: claimed.apiVersion,
      createdAt: claimed.eventCreatedAt,
      actor: claimed.eventActor,
      dataJson: claimed.eventDataJson,
    });
    let headers: Record<string, string>;
    try {
      const secrets = claimed.secretsEncrypted.map(decryptSecret);
      headers = buildWebhookHeaders({ webhookId: claimed.eventId, timestamp: attemptedAt, payload, secrets });
    } catch (error) {
      // Never send unsigned. A failed attempt like any other, so the schedule still runs out.
      logger.error(
        { err: error, delivery: claimed.id },
        'cannot sign a webhook: the endpoint secret does not decrypt',
      );
      const observation: AttemptObservation = {
        kind: 'error',
        error: 'signing_failed: the endpoint secret could not be decrypted',
      };
      return { observation, excerpt: null, truncated: false };
    }
    try {
      const response = await egress.request({
        url: claimed.url,
        method: 'POST',
        headers,
        body: payload,
        maxResponseBytes: RESPONSE_EXCERPT_BYTES,
      });
      return {
        observation: { kind: 'response', status: response.status, headers: response.headers },
        // Postgres text cannot hold NUL; the excerpt is for people, so drop it.
        excerpt: response.body.length > 0 ? response.body.toString('utf8').replaceAll('\u0000', '') : null,
        truncated: response.truncated,
      };
    } catch (error) {
      if (!(error instanceof EgressError))
        logger.warn({ err: error, delivery: claimed.id }, 'webhook request failed');
      const message =
        error instanceof EgressError ? `${error.kind}: ${error.message}` : 'The request failed unexpectedly';
      return { observation: { kind: 'error', error: message }, excerpt: null, truncated: false };
    }
  }

  function decryptSecret(sealed: Buffer): string {
    const key = sealed.toString('base64');
    let secret = secretCache.get(key);
    if (secret === undefined) {
      secret = keyring.decrypt('webhook-secret-encryption', sealed).toString('utf8');
      if (secretCache.size >= SECRET_CACHE_ENTRIES) secretCache.clear();
      secretCache.set(key, secret);
    }
    return secret;
  }

  /** Writes finished attempts (and gives back unsent leases). On failure the results stay for the next try. */
  async function record() {
    if (finished.length > 0) {
      const batch = finished;
      finished = [];
      try {
        await recordAttemptResults(
          db,
          batch.map((f) => f.record),
        );
      } catch (error) {
        finished = batch.concat(finished);
        throw error;
      }
      for (const f of batch) options.metrics?.webhookDeliveries.inc({ result: f.record.outcome });
      // The database scheduled each retry at its now() + delay, and that now() is behind ours: waking at
      // our now + delay is never too early.
      const recordedAt = performance.now();
      for (const { record: result } of batch) {
        const delayMs = (result.retryInSeconds ?? Number.POSITIVE_INFINITY) * 1000;
        if (result.outcome === 'retry' && delayMs < maxPollMs) {
          dueSoon.add(Math.ceil((recordedAt + delayMs) / DUE_BUCKET_MS) * DUE_BUCKET_MS);
        }
      }
      if (dueSoon.size > 0) claimBell.ring(); // recompute the claim loop's sleep
      const gone = [...new Set(batch.filter((f) => f.endpointGone).map((f) => f.endpointId))];
      if (gone.length > 0) {
        await db.transaction(async (tx) => {
          await disableGoneEndpoints(tx, gone, ENDPOINT_GONE_REASON);
          await cancelPendingDeliveries(tx, gone, 'The endpoint was disabled after answering 410 Gone');
        });
      }
    }
    if (unsent.length > 0) await releaseDeliveryLeases(db, unsent.splice(0));
  }

  /** The earliest retry due time we know of; past ones are dropped (the claim that follows takes them). */
  function takeNextDue(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const due of dueSoon) {
      if (due <= now) dueSoon.delete(due);
      else next = Math.min(next, due);
    }
    return next;
  }

  const runLoop = (
    name: string,
    bell: Doorbell,
    turn: () => Promise<'again' | 'found' | 'idle'>,
    nextWakeAt?: () => number,
  ) =>
    runPollingLoop({
      bell,
      turn,
      nextWakeAt,
      minPollMs,
      maxPollMs,
      isStopping: () => stopping,
      onTurnFailed: (error) =>
        logger.warn({ err: error, loop: name }, 'webhook worker turn failed; retrying'),
    });

  async function fanOutTurn() {
    const leasedAt = performance.now(); // never later than the database's now() for the lease
    const room = roomInQueue();
    const fanned = await fanOutPendingEvents(db, fanOutBatchSize, {
      count: room,
      seconds: options.leaseSeconds,
      token: newSecret(12),
    });
    enqueue(fanned.leased, leasedAt);
    if (fanned.deliveries > fanned.leased.length) claimBell.ring(); // left unleased: the claim loop takes them
    if (fanned.events === fanOutBatchSize) return 'again';
    return fanned.events > 0 ? 'found' : 'idle';
  }

  async function claimTurn() {
    const room = roomInQueue();
    if (queue.length >= concurrency || room === 0) return 'found'; // sends finishing ring the bell
    const leasedAt = performance.now();
    const claimed = await claimDueDeliveries(db, {
      limit: room,
      leaseSeconds: options.leaseSeconds,
      leaseToken: newSecret(12),
    });
    lastClaimWasFull = claimed.length === room;
    enqueue(claimed, leasedAt);
    if (lastClaimWasFull) return queue.length < concurrency ? 'again' : 'found';
    return claimed.length > 0 ? 'found' : 'idle';
  }

  async function recordTurn() {
    await record();
    return finished.length >= concurrency ? 'again' : 'idle';
  }

  return {
    start() {
      if (loops.length > 0) return;
      unsubscribe = options.signal?.subscribe(wake);
      const guard = (name: string, loop: Promise<void>) =>
        loop.catch((error: unknown) =>
          logger.error({ err: error, loop: name }, 'webhook worker loop stopped'),
        );
      loops = [
        guard('fan-out', runLoop('fan-out', fanOutBell, fanOutTurn)),
        guard(
          'claim',
          runLoop('claim', claimBell, claimTurn, () => takeNextDue(performance.now())),
        ),
        // Results are written when sends ring the bell; the poll only catches leases to give back.
        guard('record', runLoop('record', recordBell, recordTurn)),
      ];
    },
    wake,
    async stop() {
      if (stopping) return;
      stopping = true;
      unsubscribe?.();
      fanOutBell.ring();
      claimBell.ring();
      recordBell.ring();
      await Promise.all(loops);
      if (recordTimer) clearTimeout(recordTimer);
      unsent.push(...queue.splice(0).map((item) => item.claimed));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((resolve) => (timer = setTimeout(resolve, stopTimeoutMs))),
      ]);
      clearTimeout(timer);
      try {
        await record();
      } catch (error) {
        logger.warn({ err: error }, 'could not record the last webhook results; their leases will expire');
      }
    },
  };
}
