import { randomUUID } from 'node:crypto';
import { KassaConnectionError, errorFromResponse } from './errors.ts';

/**
 * The `fetch` the typed client runs on: credentials, an Idempotency-Key on every POST that has none, retries
 * only where repeating cannot do anything twice, and every error answer thrown as a typed error.
 *
 * When a retry is safe:
 * - GET, HEAD, PUT, DELETE and OPTIONS are idempotent by their meaning;
 * - a POST carries an Idempotency-Key (always, unless the caller removed it): Kassa answers a repeat of the same
 *   key and body with the stored answer (`Idempotent-Replayed: true`) and runs the effect once
 *   (docs/api-conventions.md). A PATCH without a key is never retried.
 * What is retried: no answer at all (connection refused or reset, timeout), 429 (rate limited; `Retry-After` is
 * honoured), 409 `idempotency_key_in_use` (the first attempt is still running), 502, 503 and 504. Other errors
 * are answers, not accidents: retrying them would answer the same.
 */

export type TransportOptions = {
  apiKey: string;
  /** Retries after the first attempt. */
  maxRetries: number;
  /** Backoff base: attempt n waits base × 2ⁿ (±25 %), at most 20 s, unless the answer says `Retry-After`. */
  retryDelayMs: number;
  /** Per attempt. */
  timeoutMs: number;
  fetch: typeof globalThis.fetch;
  apiVersion: string | undefined;
  newIdempotencyKey: () => string;
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const MAX_DELAY_MS = 20_000;

export const defaultIdempotencyKey = (): string => randomUUID();

function backoffMs(base: number, attempt: number): number {
  const exponential = Math.min(base * 2 ** attempt, MAX_DELAY_MS);
  return exponential * (0.75 + Math.random() * 0.5);
}

/** `Retry-After` in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.min(Math.max(seconds * 1000, 0), MAX_DELAY_MS);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(date - Date.now(), 0), MAX_DELAY_MS);
}

async function isKeyInUse(response: Response): Promise<boolean> {
  if (response.status !== 409) return false;
  const body = (await response
    .clone()
    .json()
    .catch(() => undefined)) as { code?: unknown } | undefined;
  return body?.code === 'idempotency_key_in_use';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createTransport(options: TransportOptions): (request: Request) => Promise<Response> {
  return async function send(input: Request): Promise<Response> {
    const headers = new Headers(input.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${options.apiKey}`);
    if (options.apiVersion && !headers.has('kassa-version')) headers.set('kassa-version', options.apiVersion);
    if (input.method === 'POST' && !headers.has('idempotency-key'))
      headers.set('idempotency-key', options.newIdempotencyKey());
    const request = new Request(input, { headers });
    const idempotencyKey = headers.get('idempotency-key') ?? undefined;
    const retryable = SAFE_METHODS.has(request.method) || idempotencyKey !== undefined;

    for (let attempt = 0; ; attempt += 1) {
      const mayRetry = retryable && attempt < options.maxRetries;
      let response: Response;
      try {
        // A fresh copy each time: a body can be read once.
        response = await options.fetch(request.clone(), { signal: AbortSignal.timeout(options.timeoutMs) });
      } catch (error) {
        if (mayRetry) {
          await sleep(backoffMs(options.retryDelayMs, attempt));
          continue;
        }
        throw new KassaConnectionError(
          `${request.method} ${new URL(request.url).pathname}: no answer after ${attempt + 1} attempt(s)`,
          { cause: error },
        );
      }
      if (response.ok) return response;
      if (mayRetry && (RETRY_STATUSES.has(response.status) || (await isKeyInUse(response)))) {
        const wait = retryAfterMs(response) ?? backoffMs(options.retryDelayMs, attempt);
        await response.body?.cancel();
        await sleep(wait);
        continue;
      }
      throw await errorFromResponse(response, idempotencyKey);
    }
  };
}
