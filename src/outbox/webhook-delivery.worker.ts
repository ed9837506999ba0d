import type { Database } from '../db/client.ts';
import type { EgressClient } from '../egress/index.ts';
import type { Clock } from '../lib/clock.ts';
import { newSecret } from '../lib/ids.ts';
import type { Keyring } from '../lib/keyring.ts';
import { fanOutPendingEvents } from './fan-out.repository.ts';
import { createDoorbell, runPollingLoop, type Doorbell } from './loop.ts';
import type { OutboxSignal } from './outbox-signal.ts';
import { retryDelaySeconds } from './retry-schedule.ts';
import { createAttemptSender, type AttemptLogger, type Finished } from './webhook-attempt.ts';
import {
  cancelPendingDeliveries,
  claimDueDeliveries,
  disableGoneEndpoints,
  recordAttemptResults,
  releaseDeliveryLeases,
  type ClaimedDelivery,
} from './webhook-delivery.repository.ts';
import type { Metrics, Tracer } from '../metrics/index.ts';

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

export { RESPONSE_EXCERPT_BYTES } from './webhook-attempt.ts';
/** The `disabled_reason` code of an endpoint that answered 410 Gone (docs/webhooks.md#retries). */
const ENDPOINT_GONE_REASON = 'endpoint_gone';
const RECORD_COALESCE_MS = 10;
const DUE_BUCKET_MS = 10;

export type WebhookWorkerLogger = AttemptLogger;

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

export function createWebhookDeliveryWorker(options: WebhookDeliveryWorkerOptions): WebhookDeliveryWorker {
  const { db, logger } = options;
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
  const deliver = createAttemptSender({
    egress: options.egress,
    keyring: options.keyring,
    clock: options.clock,
    logger,
    retrySchedule: options.retrySchedule,
    random,
    tracer: options.tracer,
  });
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
