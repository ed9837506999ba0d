import type { FastifyBaseLogger } from 'fastify';
import { pruneIdempotencyKeys } from '../http/idempotency.ts';
import type { Services } from '../services.ts';

/**
 * Background workers: each is a periodic task whose state lives in the database, so any number of gateway
 * processes can run them side by side (tasks claim rows with SKIP LOCKED or are naturally idempotent).
 */

export type Worker = { name: string; intervalMs: number; run(): Promise<unknown> };

export function createWorkers(services: Services): Worker[] {
  return [
    {
      name: 'prune-idempotency-keys',
      intervalMs: 10 * 60_000,
      run: () => pruneIdempotencyKeys(services.db, services.clock.now()),
    },
    {
      name: 'prune-auth-failures',
      intervalMs: 10 * 60_000,
      run: () => services.db.query('DELETE FROM auth_failures WHERE expire < $1', [Date.now()]),
    },
  ];
}

export function startWorkers(services: Services, logger: FastifyBaseLogger, workers = createWorkers(services)) {
  let stopping = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();

  function schedule(worker: Worker, delayMs: number) {
    if (stopping) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      const run = worker
        .run()
        .catch((error: unknown) => logger.warn({ err: error, worker: worker.name }, 'worker run failed'))
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
      await Promise.allSettled([...running]);
    },
  };
}
