import { performance } from 'node:perf_hooks';

/** The webhook worker's loops (fan-out, claim, record): a sleep others can cut short, and the polling loop. */

const ERROR_BACKOFF_MAX_MS = 5_000;

/** A loop's sleep that others can cut short. */
export function createDoorbell() {
  let ring: ((woken: boolean) => void) | undefined;
  let rung = false;
  return {
    ring() {
      rung = true;
      ring?.(true);
    },
    /** Resolves true when rung (now or while waiting), false when the timeout elapsed. */
    wait(timeoutMs: number): Promise<boolean> {
      if (rung) {
        rung = false;
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        const timer = setTimeout(() => done(false), timeoutMs);
        function done(woken: boolean) {
          clearTimeout(timer);
          ring = undefined;
          rung = false;
          resolve(woken);
        }
        ring = done;
      });
    },
  };
}

export type Doorbell = ReturnType<typeof createDoorbell>;

/**
 * Runs `turn` until stopped. `turn` returns 'again' (a full batch: go on at once), 'found' (some work)
 * or 'idle'; the loop then sleeps until rung, or for a poll interval that doubles while idle. A failed turn
 * is reported and retried after a backoff that doubles up to ERROR_BACKOFF_MAX_MS.
 */
export async function runPollingLoop(options: {
  bell: Doorbell;
  turn: () => Promise<'again' | 'found' | 'idle'>;
  nextWakeAt?: (() => number) | undefined;
  minPollMs: number;
  maxPollMs: number;
  isStopping: () => boolean;
  onTurnFailed: (error: unknown) => void;
}): Promise<void> {
  const { bell, turn, minPollMs, maxPollMs, isStopping } = options;
  const nextWakeAt = options.nextWakeAt ?? (() => Number.POSITIVE_INFINITY);
  let pollMs = minPollMs;
  let errorBackoffMs = minPollMs;
  while (!isStopping()) {
    let outcome: 'again' | 'found' | 'idle';
    try {
      outcome = await turn();
      errorBackoffMs = minPollMs;
    } catch (error) {
      options.onTurnFailed(error);
      await bell.wait(errorBackoffMs);
      errorBackoffMs = Math.min(errorBackoffMs * 2, ERROR_BACKOFF_MAX_MS);
      continue;
    }
    if (isStopping()) break;
    if (outcome === 'again') {
      await new Promise((resolve) => setImmediate(resolve)); // let finished sends run their callbacks
      continue;
    }
    pollMs = outcome === 'found' ? minPollMs : Math.min(pollMs * 2, maxPollMs);
    const now = performance.now();
    await bell.wait(Math.max(0, Math.min(pollMs, nextWakeAt() - now)));
  }
}
