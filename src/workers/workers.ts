import type { FastifyBaseLogger } from 'fastify';
import { runAsSystem } from '../lib/actor-context.ts';
import { openSpan, runInTrace } from '../metrics/index.ts';
import { checkoutServiceDeps, sweepExpiredCheckouts } from '../modules/checkouts/checkout.service.ts';
import { sweepExpiredPaymentLinks } from '../modules/payment-links/payment-link.service.ts';
import { createWebhookDeliveryWorker } from '../outbox/webhook-delivery.worker.ts';
import type { Services } from '../services.ts';
import { applyUnappliedProcessorNotifications } from '../modules/processor-accounts/processor-notifications.ts';
import { runRetention } from './retention.worker.ts';

/**
 * Background workers: each is a periodic task whose state lives in the database, so any number of gateway
 * processes can run them side by side (tasks claim rows with SKIP LOCKED or are naturally idempotent).
 */

export type Worker = { name: string; intervalMs: number; run(): Promise<unknown> };

export function createWorkers(services: Services): Worker[] {
  const checkoutDeps = checkoutServiceDeps(services);
  return [
    {
      // Sessions past expires_at → EXPIRED (and their unpaid orders), with events; SKIP LOCKED batches.
      name: 'expire-checkouts',
      intervalMs: 5_000,
      run: () => sweepExpiredCheckouts(services.db, checkoutDeps),
    },
    {
      // Payment links past their validity or activation window → EXPIRED, with events; SKIP LOCKED batches.
      name: 'expire-payment-links',
      intervalMs: 5_000,
      run: () => sweepExpiredPaymentLinks(services.db, checkoutDeps),
    },
    {
      // Payments a crash or a lost processor answer left unsettled; abandoned 3-D Secure; missed captures.
      name: 'recover-payments',
      // A third of the recovery age (10 s by default), so interrupted work settles within ~1.3× that age.
      intervalMs: Math.min(10_000, Math.max(500, services.config.paymentRecoveryMs / 3)),
      run: () => services.payments.recover(),
    },
    {
      // Processor webhooks stored but not applied (their payment's answer was still on its way, or the
      // process stopped after answering the processor): applied again through the same state machines.
      name: 'processor-notifications',
      intervalMs: 5_000,
      run: () =>
        applyUnappliedProcessorNotifications(services.db, services.payments.applyProcessorNotification),
    },
    {
      // The sandbox acquirer's own background: pending test cards finalise, unaccepted notifications retry.
      name: 'sandbox-acquirer',
      intervalMs: 2_000,
      run: async () => {
        await services.sandbox.finaliseDuePending();
        await services.sandbox.redeliverDueNotifications();
      },
    },
    {
      // `callbacks.notification` of payments finalised after they were PENDING; retries on the webhook
      // schedule, state in callback_notifications (SKIP LOCKED leases).
      name: 'callback-notifications',
      intervalMs: 1_000,
      run: () => services.callbacks.deliverDueNotifications(),
    },
    {
      // Retention: expired unpaid checkouts, webhook bodies and history, idempotency records, throttling rows;
      // money is kept forever (src/workers/retention.worker.ts, docs/operations.md "Retention").
      name: 'retention',
      intervalMs: 10 * 60_000,
      run: () => runRetention({ db: services.db, config: services.config, now: services.clock.now() }),
    },
  ];
}

/** Whether a run's result (a count, counts by kind, a list) says it did something. */
function didWork(result: unknown): boolean {
  if (typeof result === 'number') return result > 0;
  if (Array.isArray(result)) return result.length > 0;
  if (result !== null && typeof result === 'object') return Object.values(result).some(didWork);
  return result === true;
}

export function startWorkers(
  services: Services,
  logger: FastifyBaseLogger,
  workers = createWorkers(services),
) {
  // The webhook outbox is a loop of its own, not a periodic task: it must wake within milliseconds of new
  // work and keep many sends in flight (src/outbox/webhook-delivery.worker.ts).
  const webhooks = createWebhookDeliveryWorker({
    db: services.db,
    egress: services.egress,
    keyring: services.keyring,
    clock: services.clock,
    logger,
    signal: services.outbox,
    retrySchedule: services.config.webhookRetryScheduleSeconds,
    leaseSeconds: services.config.webhookLeaseSeconds,
    stopTimeoutMs: services.config.shutdownGraceMs,
    metrics: services.metrics,
    tracer: services.tracer,
  });
  webhooks.start();
  let stopping = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();

  function schedule(worker: Worker, delayMs: number) {
    if (stopping) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      // Events a worker emits name it as their actor, whatever context armed the timer. Each run is a trace
      // of its own: the processor calls it makes, and the webhooks of the events it emits, carry it.
      const { context, span } = openSpan(undefined, services.tracer, `worker ${worker.name}`, 'internal');
      // A span that is never ended is never exported: idle runs (most of them) leave no span behind.
      const run = runInTrace(context, () => runAsSystem(worker.name, () => worker.run()))
        .then((result) => {
          if (didWork(result)) span?.end();
        })
        .catch((error: unknown) => {
          span?.end({ error: error instanceof Error ? error.message : String(error) });
          logger.warn({ err: error, worker: worker.name }, 'worker run failed');
        })
        .finally(() => {
          running.delete(run);
          // ±20 % jitter keeps several processes from waking in lock-step.
          schedule(worker, worker.intervalMs * (0.8 + Math.random() * 0.4));
        });
      running.add(run);
    }, delayMs);
    timers.add(timer);
  }

  for (const worker of workers) schedule(worker, Math.min(worker.intervalMs, 1_000) * Math.random());

  return {
    async stop() {
      stopping = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled([...running, webhooks.stop()]);
    },
  };
}
