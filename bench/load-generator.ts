import { Pool, type Dispatcher } from 'undici';

/**
 * The two load generators of the benchmark, written on undici so that both loops and their timing are ours:
 *
 * - closed loop: N workers, each sends its next request as soon as its previous one has answered. It finds
 *   the throughput ceiling; its latencies are "latency at saturation with N connections".
 * - open loop: requests are scheduled on a fixed timeline (request i is DUE at start + i / rate) whatever
 *   the server does, and each latency is measured from its DUE instant, not from when it was actually
 *   written. A server stall therefore shows up in the latency of every request that should have been sent
 *   during the stall (no coordinated omission, unlike `autocannon -R`, which sends in bursts).
 *
 * Every loop is bounded in time, and the open loop also in the number of requests it keeps outstanding.
 */

export type HttpRequest = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
};

/** One unit of work: true when it succeeded; a status (or 'network') otherwise. */
export type TaskResult = { ok: true } | { ok: false; status: number | 'network'; detail?: string };

export type LatencySummary = {
  /** Completed units of work inside the measured window. */
  count: number;
  ok: number;
  errors: number;
  /** Completed OK units per second of the measured window. */
  per_second: number;
  mean_ms: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  /** Error counts by HTTP status or 'network', and a few sample bodies for the report. */
  error_statuses: Record<string, number>;
  error_samples: string[];
};

const MAX_ERROR_SAMPLES = 3;

class Recorder {
  readonly latencies: number[] = [];
  ok = 0;
  errors = 0;
  readonly errorStatuses: Record<string, number> = {};
  readonly errorSamples: string[] = [];

  record(latencyMs: number, result: TaskResult) {
    this.latencies.push(latencyMs);
    if (result.ok) {
      this.ok += 1;
      return;
    }
    this.errors += 1;
    const key = String(result.status);
    this.errorStatuses[key] = (this.errorStatuses[key] ?? 0) + 1;
    if (this.errorSamples.length < MAX_ERROR_SAMPLES)
      this.errorSamples.push(`${key}: ${(result.detail ?? '').slice(0, 300)}`);
  }

  summarise(windowMs: number): LatencySummary {
    const sorted = Float64Array.from(this.latencies).sort();
    const at = (quantile: number) =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)]!;
    const total = sorted.reduce((sum, value) => sum + value, 0);
    return {
      count: sorted.length,
      ok: this.ok,
      errors: this.errors,
      per_second: round(this.ok / (windowMs / 1000)),
      mean_ms: round(sorted.length ? total / sorted.length : 0, 2),
      p50_ms: round(at(0.5), 2),
      p90_ms: round(at(0.9), 2),
      p99_ms: round(at(0.99), 2),
      p999_ms: round(at(0.999), 2),
      max_ms: round(sorted.length ? sorted[sorted.length - 1]! : 0, 2),
      error_statuses: this.errorStatuses,
      error_samples: this.errorSamples,
    };
  }
}

export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function createPool(origin: string, connections: number): Pool {
  return new Pool(origin, {
    connections,
    pipelining: 1,
    // Bounded: a request that hangs fails the run's error count instead of hanging the benchmark.
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    keepAliveTimeout: 60_000,
  });
}

/** Sends one request; `expect` lists the statuses that count as success. Reads (and discards) the body. */
export async function sendRequest(
  dispatcher: Dispatcher,
  request: HttpRequest,
  expect: readonly number[],
): Promise<TaskResult> {
  try {
    const response = await dispatcher.request({
      method: request.method,
      path: request.path,
      headers: request.headers,
      body: request.body,
    });
    if (expect.includes(response.statusCode)) {
      await response.body.dump({ limit: 1 << 24 });
      return { ok: true };
    }
    return { ok: false, status: response.statusCode, detail: await response.body.text() };
  } catch (error) {
    return { ok: false, status: 'network', detail: (error as Error).message };
  }
}

/** Sends one request and returns its text (setup steps and probes; throws on an unexpected status). */
export async function requestText(
  dispatcher: Dispatcher,
  request: HttpRequest,
  expect: readonly number[],
): Promise<{ status: number; text: string }> {
  const response = await dispatcher.request({
    method: request.method,
    path: request.path,
    headers: request.headers,
    body: request.body,
  });
  const text = await response.body.text();
  if (!expect.includes(response.statusCode)) throw new RequestFailed(request, response.statusCode, text);
  return { status: response.statusCode, text };
}

/** Like `requestText`, with the answer parsed as JSON. */
export async function requestJson<T>(
  dispatcher: Dispatcher,
  request: HttpRequest,
  expect: readonly number[],
): Promise<{ status: number; json: T }> {
  const { status, text } = await requestText(dispatcher, request, expect);
  return { status, json: (text ? JSON.parse(text) : undefined) as T };
}

export class RequestFailed extends Error {
  constructor(
    readonly request: HttpRequest,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${request.method} ${request.path} answered ${status}: ${body.slice(0, 500)}`);
  }

  /** The problem document's `code`, when the body is one. */
  get code(): string | undefined {
    try {
      return (JSON.parse(this.body) as { code?: string }).code;
    } catch {
      return undefined;
    }
  }
}

export type ClosedLoopResult = LatencySummary & {
  connections: number;
  warmup_seconds: number;
  duration_seconds: number;
};

/**
 * Closed loop: `connections` workers run `task` back to back for warm-up + duration; only units that START
 * inside the measured window are recorded, and the rate divides by the window length.
 */
export async function runClosedLoop(options: {
  connections: number;
  warmupMs: number;
  durationMs: number;
  task: (worker: number, sequence: number) => Promise<TaskResult>;
}): Promise<ClosedLoopResult> {
  const recorder = new Recorder();
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const measureUntil = measureFrom + options.durationMs;
  let sequence = 0;

  async function work(worker: number) {
    while (performance.now() < measureUntil) {
      const sentAt = performance.now();
      const result = await options.task(worker, sequence++);
      if (sentAt >= measureFrom && sentAt < measureUntil) recorder.record(performance.now() - sentAt, result);
    }
  }

  await Promise.all(Array.from({ length: options.connections }, (_, worker) => work(worker)));
  // Units that started in the window but ended after it still count: the window is the START window.
  return {
    connections: options.connections,
    warmup_seconds: options.warmupMs / 1000,
    duration_seconds: options.durationMs / 1000,
    ...recorder.summarise(options.durationMs),
  };
}

export type OpenLoopResult = LatencySummary & {
  offered_rate: number;
  warmup_seconds: number;
  duration_seconds: number;
  /** Requests that were due but not sent because too many were outstanding (the server could not keep up). */
  not_sent: number;
  /** Requests still unanswered when the run gave up waiting. */
  timed_out: number;
  /** How late the generator itself started requests after their due time (its own share of the latency). */
  send_lag_p50_ms: number;
  send_lag_p99_ms: number;
  saturated: boolean;
};

/**
 * Open loop at a constant arrival rate. Request i is due at `start + i / rate`; its latency runs from that
 * due instant to the end of its response. At most `maxOutstanding` requests are in flight: beyond that,
 * due requests are counted as `not_sent` (the run is saturated) so memory and time stay bounded.
 */
export async function runOpenLoop(options: {
  rate: number;
  warmupMs: number;
  durationMs: number;
  maxOutstanding: number;
  /** How long to wait for stragglers once the schedule has ended. */
  drainTimeoutMs?: number;
  task: (sequence: number) => Promise<TaskResult>;
}): Promise<OpenLoopResult> {
  const recorder = new Recorder();
  const sendLags: number[] = [];
  const intervalMs = 1000 / options.rate;
  const total = Math.floor(((options.warmupMs + options.durationMs) / 1000) * options.rate);
  const start = performance.now() + 20;
  const measureFrom = start + options.warmupMs;
  let next = 0;
  let outstanding = 0;
  let notSent = 0;
  const inFlight = new Set<Promise<void>>();

  function send(sequence: number, dueAt: number) {
    const measured = dueAt >= measureFrom;
    if (measured) sendLags.push(performance.now() - dueAt);
    outstanding += 1;
    const flight = options.task(sequence).then((result) => {
      outstanding -= 1;
      if (measured) recorder.record(performance.now() - dueAt, result);
    });
    inFlight.add(flight);
    void flight.finally(() => inFlight.delete(flight));
  }

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) {
        const dueAt = start + next * intervalMs;
        if (outstanding >= options.maxOutstanding) {
          if (dueAt >= measureFrom) notSent += 1;
        } else {
          send(next, dueAt);
        }
        next += 1;
      }
      if (next >= total) return resolve();
      // setTimeout's granularity is ~1 ms: a request may start up to that late; send_lag reports it.
      setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });

  const drainDeadline = options.drainTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([...inFlight]),
    new Promise((resolve) => (timer = setTimeout(resolve, drainDeadline))),
  ]);
  clearTimeout(timer);
  const timedOut = inFlight.size;

  const lags = Float64Array.from(sendLags).sort();
  const lagAt = (quantile: number) =>
    lags.length === 0 ? 0 : lags[Math.min(lags.length - 1, Math.ceil(quantile * lags.length) - 1)]!;
  const summary = recorder.summarise(options.durationMs);
  return {
    offered_rate: options.rate,
    warmup_seconds: options.warmupMs / 1000,
    duration_seconds: options.durationMs / 1000,
    ...summary,
    not_sent: notSent,
    timed_out: timedOut,
    send_lag_p50_ms: round(lagAt(0.5), 2),
    send_lag_p99_ms: round(lagAt(0.99), 2),
    saturated: notSent > 0 || timedOut > 0,
  };
}
