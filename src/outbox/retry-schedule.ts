/**
 * When a failed webhook attempt is tried again, and whether it is tried at all (Standard Webhooks,
 * "Deliverability and reliability" and "Delivery success and failure").
 *
 * Invariants:
 * - Attempt 1 is immediate; after failed attempt n (1-based) the next one waits `schedule[n - 1]` seconds,
 *   ±RETRY_JITTER_RATIO, so a delivery makes at most `schedule.length + 1` attempts.
 * - 2xx is the only success. 3xx is a failure and is never followed. 410 Gone is final and disables the
 *   endpoint. Every other status and every network failure is retried while attempts remain.
 * - `Retry-After` on 429 / 503 can only postpone the next attempt (never bring it forward), and is capped
 *   at RETRY_AFTER_CAP_SECONDS so a hostile or broken receiver cannot park a delivery for years.
 */

/** ≈ 3 days: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (the Standard Webhooks example). */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400,
];
export const RETRY_JITTER_RATIO = 0.1;
export const RETRY_AFTER_CAP_SECONDS = 86_400;
const MAX_SCHEDULE_STEPS = 30;
const MAX_STEP_SECONDS = 7 * 86_400;

/** Parses `KASSA_WEBHOOK_RETRY_SCHEDULE` ("5,300,1800" — seconds, decimals allowed); throws on nonsense. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  if (parts.length > MAX_SCHEDULE_STEPS) throw new Error(`at most ${MAX_SCHEDULE_STEPS} retry delays`);
  return parts.map((part) => {
    const seconds = /^\d+(\.\d+)?$/.test(part) ? Number(part) : Number.NaN;
    if (!(seconds > 0 && seconds <= MAX_STEP_SECONDS)) {
      throw new Error(`"${part}" is not a delay in seconds between 0 and ${MAX_STEP_SECONDS}`);
    }
    return seconds;
  });
}

export function maxAttempts(schedule: readonly number[]): number {
  return schedule.length + 1;
}

/** The jittered delay after failed attempt `attemptNumber`, or null when no attempt remains. */
export function retryDelaySeconds(
  schedule: readonly number[],
  attemptNumber: number,
  random: () => number = Math.random,
): number | null {
  const base = schedule[attemptNumber - 1];
  if (base === undefined) return null;
  return base * (1 + RETRY_JITTER_RATIO * (2 * random() - 1));
}

/** `Retry-After` as seconds from `now` (delta-seconds or an HTTP-date, RFC 9110 §10.2.3); null if absent/invalid. */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return null;
  return Math.max(0, (date - now.getTime()) / 1000);
}

/** What one attempt observed: an HTTP answer, or a failure before one arrived. */
export type AttemptObservation =
  { kind: 'response'; status: number; headers: Record<string, string> } | { kind: 'error'; error: string };

export type AttemptVerdict =
  | { result: 'succeeded' }
  | {
      result: 'failed';
      /** Seconds until the next attempt, or null: the delivery is over (attempts exhausted or 410). */
      retryInSeconds: number | null;
      /** 410 Gone: the receiver asked us to stop; the endpoint is disabled. */
      disableEndpoint: boolean;
      error: string;
    };

export function judgeAttempt(
  observation: AttemptObservation,
  context: { attemptNumber: number; schedule: readonly number[]; now: Date; random?: () => number },
): AttemptVerdict {
  const retry = () => retryDelaySeconds(context.schedule, context.attemptNumber, context.random);
  if (observation.kind === 'error') {
    return { result: 'failed', retryInSeconds: retry(), disableEndpoint: false, error: observation.error };
  }
  const { status, headers } = observation;
  if (status >= 200 && status < 300) return { result: 'succeeded' };
  if (status === 410) {
    return {
      result: 'failed',
      retryInSeconds: null,
      disableEndpoint: true,
      error: 'HTTP 410: the endpoint answered Gone and has been disabled',
    };
  }
  let retryInSeconds = retry();
  if (retryInSeconds !== null && (status === 429 || status === 503)) {
    const retryAfter = parseRetryAfter(headers['retry-after'], context.now);
    if (retryAfter !== null)
      retryInSeconds = Math.max(retryInSeconds, Math.min(retryAfter, RETRY_AFTER_CAP_SECONDS));
  }
  const error =
    status >= 300 && status < 400
      ? `HTTP ${status}: redirects are not followed; point the endpoint at the final URL`
      : `HTTP ${status}`;
  return { result: 'failed', retryInSeconds, disableEndpoint: false, error };
}
