import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import type { Pool } from 'undici';
import { embeddedConnectionString, findRunningEmbeddedPort } from '../src/db/embedded.ts';
import { fanOutEmittedEventsSql } from '../src/outbox/fan-out.repository.ts';
import { formatProfileSummary, summariseProfile } from './cpu-profile-summary.ts';
import {
  createPool,
  requestJson,
  requestText,
  RequestFailed,
  round,
  runClosedLoop,
  runOpenLoop,
  sendRequest,
  type HttpRequest,
  type TaskResult,
} from './load-generator.ts';
import { createProcessMonitor, waitForQuietBox, type ProcessMonitor } from './process-monitor.ts';
import { explainHotStatements, formatExplained, formatPlans } from './explain-hot.ts';
import { createMerchant, startBaselineServer, startGateway, type ServerProcess } from './processes.ts';
import {
  barMedians,
  evaluateTargets,
  formatReport,
  type BenchReport,
  type ScenarioResult,
  type SuiteResult,
} from './report.ts';
import { CHECKOUT_BODY, checkoutBodyForCustomer, paymentRequestBody } from './requests.ts';
import { countScaleRows, loadScaleHistory, type ScaleHistoryResult } from './scale-history.ts';
import { formatScalePairs, scalePairs } from './scale-pairs.ts';
import { absoluteNow, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/**
 * `npm run bench` — the load benchmark of Kassa (docs/performance.md explains how to read it).
 *
 * For each database kind (the embedded PostgreSQL in a fresh temporary KASSA_DATA_DIR, and the server in
 * DATABASE_URL when it is set, in a fresh database created and dropped here) it starts the real gateway
 * (`node bin/kassa.js serve`, log level warn) and the baseline server as child processes, creates a merchant
 * with `kassa merchant create`, takes an OAuth access token, and measures every scenario in the same run.
 * All traffic goes to 127.0.0.1.
 *
 *   npm run bench                       full run (≈ 3 min per database kind)
 *   npm run bench -- --quick            short run (1 s warm-up, 3 s measured)
 *   BENCH_DURATION_SECONDS=5 npm run bench
 *   npm run bench -- --db embedded      only the embedded database (or: external)
 *   npm run bench -- --profile          CPU-profile the gateway under the create-checkout closed loop
 *   npm run bench -- --profile --only webhook_drain      … or under another scenario
 *   npm run bench -- --wait-quiet 600   first wait (≤ 600 s) until nothing else keeps the CPUs busy
 *   BENCH_GATEWAY_LOG_LEVEL=info        the gateway's log level (default warn)
 *   BENCH_POOL_MAX=20                   the database pool size of the gateway and the baseline (default 10)
 *   BENCH_KEEP_DATABASE=1               leave the external bench database in place, to inspect it afterwards
 *   npm run bench -- --only baseline_create_checkout,create_checkout
 *                                       some scenarios only (printed, not written to bench/results/)
 *   npm run bench -- --scale            first load a realistic history (bench/scale-history.ts) into the
 *                                       database, then the same scenarios; results in bench/results/scale-latest.*
 *   npm run bench -- --scale=0.1        … a tenth of that history (a quick check)
 *   npm run bench -- --scale --pairs 3  an empty-database suite, then a loaded one, three times alternately; each
 *                                       scenario's loaded median against its empty median (bench/scale-pairs.ts);
 *                                       results in bench/results/scale-pairs-latest.*
 *   npm run bench -- --scale --explain  … and EXPLAIN (ANALYZE, BUFFERS) of the hot statements on the loaded
 *                                       database first (bench/explain-hot.ts; bench/results/scale-explain.md)
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const CONNECTIONS = 50;
// The gateway's default KASSA_DB_POOL_MAX; the baseline gets the same. BENCH_POOL_MAX tries another size.
const POOL_MAX = Number(process.env.BENCH_POOL_MAX ?? 10);
if (!(Number.isInteger(POOL_MAX) && POOL_MAX >= 1 && POOL_MAX <= 200))
  throw new Error('BENCH_POOL_MAX must be 1–200');
const OPEN_LOOP_RATES = [500, 1000, 1500];
const OPEN_LOOP_CONNECTIONS = 128;
// Logging one JSON line per request costs throughput; the benchmark measures the gateway at `warn`, and
// BENCH_GATEWAY_LOG_LEVEL=info measures that cost.
const LOG_LEVEL = process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'warn';

// `--scale` alone means the full size (parseArgs wants a value for a string option).
const argv = process.argv.slice(2).map((arg) => (arg === '--scale' ? '--scale=1' : arg));
const { values: args } = parseArgs({
  args: argv,
  options: {
    scale: { type: 'string' },
    explain: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    db: { type: 'string', default: 'all' },
    'wait-quiet': { type: 'string' },
    only: { type: 'string' },
    runs: { type: 'string', default: '1' },
    pairs: { type: 'string' },
  },
});

const durationSeconds = Number(process.env.BENCH_DURATION_SECONDS ?? (args.quick ? 3 : 10));
if (!(durationSeconds > 0 && durationSeconds <= 120))
  throw new Error('BENCH_DURATION_SECONDS must be in (0, 120]');
const DURATION_MS = durationSeconds * 1000;
const WARMUP_MS = args.quick ? 1000 : Math.min(3000, DURATION_MS);
const DRAIN_EVENTS = args.quick ? 5_000 : 20_000;
/** `--runs N`: the whole suite N times in a row; the report adds each bar figure's median (the bar is judged on it). */
const RUNS = Number(args.runs);
if (!(Number.isInteger(RUNS) && RUNS >= 1 && RUNS <= 9))
  throw new Error('--runs must be an integer in [1, 9]');
const SCALE = args.scale === undefined ? undefined : Number(args.scale);
if (SCALE !== undefined && !(SCALE > 0 && SCALE <= 10)) throw new Error('--scale must be in (0, 10]');
/** `--pairs N` (with `--scale`): N alternating pairs of suites, empty database then loaded database. */
const PAIRS = args.pairs === undefined ? undefined : Number(args.pairs);
if (PAIRS !== undefined && !(Number.isInteger(PAIRS) && PAIRS >= 1 && PAIRS <= 9))
  throw new Error('--pairs must be an integer in [1, 9]');
if (PAIRS !== undefined && (SCALE === undefined || RUNS > 1 || args.explain))
  throw new Error('--pairs needs --scale, and takes neither --runs nor --explain');
if (args.explain && SCALE === undefined)
  throw new Error('--explain explains on the loaded database: add --scale');

type CheckoutJson = { checkout_id: string; client_token?: string; checkout_redirect_url: string };

class Unavailable extends Error {}

/** A route that is not there yet (another engineer is building it) makes its scenario "unavailable". */
function unavailableIfMissing(error: unknown): never {
  if (error instanceof RequestFailed && error.status === 404 && error.code === 'route_not_found')
    throw new Unavailable(
      `${error.request.method} ${error.request.path.replace(/\/[^/]{20,}/g, '/…')} is not implemented yet (404 route_not_found)`,
    );
  throw error;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

type SuiteContext = {
  gateway: ServerProcess;
  baseline: ServerProcess;
  monitorFor(server: 'gateway' | 'baseline'): ProcessMonitor;
  db: pg.Client;
  merchantId: string;
  token: string;
  baselineToken: string;
  receiver: WebhookReceiver;
  nextKey(): string;
};

function merchantHeaders(token: string, idempotencyKey?: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
  };
}

function createCheckoutRequest(ctx: SuiteContext): HttpRequest {
  return {
    method: 'POST',
    path: '/v1/checkouts',
    headers: merchantHeaders(ctx.token, ctx.nextKey()),
    body: CHECKOUT_BODY,
  };
}

async function createCheckouts(ctx: SuiteContext, pool: Pool, count: number): Promise<CheckoutJson[]> {
  const created: CheckoutJson[] = [];
  for (let index = 0; index < count; index += 1)
    created.push((await requestJson<CheckoutJson>(pool, createCheckoutRequest(ctx), [201])).json);
  return created;
}

/** The path (and query) of an absolute URL: every request goes to the pool's 127.0.0.1 origin. */
function pathOf(url: string) {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

async function closePool(pool: Pool) {
  await withTimeout(pool.close(), 10_000, 'closing the client pool').catch(() => pool.destroy());
}

/** The closed loop of most scenarios: `CONNECTIONS` connections to `origin`, each sending `request()` again. */
async function closedLoopOf(origin: string, request: () => HttpRequest, expect: readonly number[]) {
  const pool = createPool(origin, CONNECTIONS);
  try {
    return await runClosedLoop({
      connections: CONNECTIONS,
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
      task: () => sendRequest(pool, request(), expect),
    });
  } finally {
    await closePool(pool);
  }
}

// --- Scenarios -------------------------------------------------------------------------------------------

type Scenario = {
  name: string;
  title: string;
  server: 'gateway' | 'baseline';
  loop: ScenarioResult['loop'];
  run(ctx: SuiteContext): Promise<Partial<ScenarioResult>>;
};

function baselineClosed(): Scenario {
  return {
    name: 'baseline_create_checkout',
    title: 'baseline: JWT verify + 2 inserts',
    server: 'baseline',
    loop: 'closed',
    async run(ctx) {
      const request: HttpRequest = {
        method: 'POST',
        path: '/v1/checkouts',
        headers: merchantHeaders(ctx.baselineToken),
        body: CHECKOUT_BODY,
      };
      return { closed: await closedLoopOf(ctx.baseline.origin, () => request, [201]) };
    },
  };
}

function baselineOpen(rate: number): Scenario {
  return {
    name: `baseline_open_${rate}`,
    title: `baseline at ${rate.toLocaleString('en-US')}/s`,
    server: 'baseline',
    loop: 'open',
    async run(ctx) {
      const pool = createPool(ctx.baseline.origin, OPEN_LOOP_CONNECTIONS);
      const request: HttpRequest = {
        method: 'POST',
        path: '/v1/checkouts',
        headers: merchantHeaders(ctx.baselineToken),
        body: CHECKOUT_BODY,
      };
      const open = await runOpenLoop({
        rate,
        warmupMs: WARMUP_MS,
        durationMs: DURATION_MS,
        maxOutstanding: rate,
        task: () => sendRequest(pool, request, [201]),
      });
      await closePool(pool);
      return { open };
    },
  };
}

function createCheckoutClosed(): Scenario {
  return {
    name: 'create_checkout',
    title: 'POST /v1/checkouts',
    server: 'gateway',
    loop: 'closed',
    async run(ctx) {
      const closed = await closedLoopOf(ctx.gateway.origin, () => createCheckoutRequest(ctx), [201]);
      return { closed, note: 'unique Idempotency-Key per request; redirect-checkout body' };
    },
  };
}

/**
 * The redirect-checkout flow's body names the same customer every time; Kassa upserts the customer row (by e-mail) in the
 * checkout's transaction, so concurrent checkouts of ONE customer queue on that row's lock. This variant
 * sends a different customer per request, to show what the route does when that lock is not shared.
 */
function createCheckoutDistinctCustomers(): Scenario {
  return {
    name: 'create_checkout_distinct_customers',
    title: 'POST /v1/checkouts, a new customer each',
    server: 'gateway',
    loop: 'closed',
    async run(ctx) {
      const pool = createPool(ctx.gateway.origin, CONNECTIONS);
      const closed = await runClosedLoop({
        connections: CONNECTIONS,
        warmupMs: WARMUP_MS,
        durationMs: DURATION_MS,
        task: (_worker, sequence) =>
          sendRequest(
            pool,
            {
              method: 'POST',
              path: '/v1/checkouts',
              headers: merchantHeaders(ctx.token, ctx.nextKey()),
              body: checkoutBodyForCustomer(sequence),
            },
            [201],
          ),
      });
      await closePool(pool);
      return { closed, note: 'redirect-checkout body with customer.email unique per request' };
    },
  };
}

function createCheckoutOpen(rate: number): Scenario {
  return {
    name: `create_checkout_open_${rate}`,
    title: `POST /v1/checkouts at ${rate.toLocaleString('en-US')}/s`,
    server: 'gateway',
    loop: 'open',
    async run(ctx) {
      const pool = createPool(ctx.gateway.origin, OPEN_LOOP_CONNECTIONS);
      const open = await runOpenLoop({
        rate,
        warmupMs: WARMUP_MS,
        durationMs: DURATION_MS,
        maxOutstanding: rate,
        task: () => sendRequest(pool, createCheckoutRequest(ctx), [201]),
      });
      await closePool(pool);
      const note = `send lag p99 ${open.send_lag_p99_ms} ms${open.saturated ? `; SATURATED: ${open.not_sent} not sent, ${open.timed_out} unanswered` : ''}`;
      return { open, note };
    },
  };
}

function paymentMethods(): Scenario {
  return {
    name: 'payment_methods',
    title: 'GET /v1/checkouts/{id}/payment-methods',
    server: 'gateway',
    loop: 'closed',
    async run(ctx) {
      const pool = createPool(ctx.gateway.origin, CONNECTIONS);
      const checkouts = await createCheckouts(ctx, pool, CONNECTIONS);
      const requests = checkouts.map((checkout): HttpRequest => {
        if (!checkout.client_token) throw new Error('the create-checkout answer carries no client_token');
        return {
          method: 'GET',
          path: `/v1/checkouts/${checkout.checkout_id}/payment-methods`,
          headers: { authorization: `Bearer ${checkout.client_token}` },
        };
      });
      const closed = await runClosedLoop({
        connections: CONNECTIONS,
        warmupMs: WARMUP_MS,
        durationMs: DURATION_MS,
        task: (worker) => sendRequest(pool, requests[worker]!, [200]),
      });
      await closePool(pool);
      return { closed, note: "with the checkout's client_token (ct_…)" };
    },
  };
}

function hostedPage(): Scenario {
  return {
    name: 'hosted_page',
    title: 'GET hosted page (checkout_redirect_url)',
    server: 'gateway',
    loop: 'closed',
    async run(ctx) {
      const pool = createPool(ctx.gateway.origin, CONNECTIONS);
      try {
        const checkouts = await createCheckouts(ctx, pool, CONNECTIONS);
        const requests = checkouts.map((checkout): HttpRequest => ({
          method: 'GET',
          path: pathOf(checkout.checkout_redirect_url),
          headers: { accept: 'text/html', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) kassa-bench' },
        }));
        await requestText(pool, requests[0]!, [200]).catch(unavailableIfMissing);
        const closed = await runClosedLoop({
          connections: CONNECTIONS,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
          task: (worker) => sendRequest(pool, requests[worker]!, [200]),
        });
        return { closed, note: `${CONNECTIONS} different open checkouts` };
      } finally {
        await closePool(pool);
      }
    },
  };
}

/**
 * The floors (bench/floor-routes.ts): what the baseline server does for the least the contract of
 * `POST /v1/checkouts` and of the hosted page requires, against the gateway's tables, in the same run. A floor's
 * ratio to the baseline bounds what the real route can reach on this machine.
 */
function floorCreateCheckout(): Scenario {
  return {
    name: 'floor_create_checkout',
    title: 'floor of POST /v1/checkouts: one statement',
    server: 'baseline',
    loop: 'closed',
    async run(ctx) {
      const closed = await closedLoopOf(
        ctx.baseline.origin,
        () => ({
          method: 'POST',
          path: '/floor/checkouts',
          headers: merchantHeaders(ctx.baselineToken, ctx.nextKey()),
          body: CHECKOUT_BODY,
        }),
        [201],
      );
      return {
        closed,
        note: 'bench/floor-routes.ts: the same body, session, order, customer, 2 events and sealed stored answer in one statement',
      };
    },
  };
}

function floorHostedPage(): Scenario {
  return {
    name: 'floor_hosted_page',
    title: "floor of the hosted page: 1 statement + the page's bytes",
    server: 'baseline',
    loop: 'closed',
    async run(ctx) {
      const gatewayPool = createPool(ctx.gateway.origin, 2);
      const pool = createPool(ctx.baseline.origin, CONNECTIONS);
      try {
        const checkouts = await createCheckouts(ctx, gatewayPool, CONNECTIONS);
        const headers = { accept: 'text/html', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) kassa-bench' };
        // The real page of the first checkout: the floor answers with its bytes (its nonce and token replaced).
        const { text: html } = await requestText(
          gatewayPool,
          { method: 'GET', path: pathOf(checkouts[0]!.checkout_redirect_url), headers },
          [200],
        );
        const nonce = /nonce="([^"]+)"/.exec(html)?.[1];
        const csrfToken = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
        if (!nonce || !csrfToken) throw new Error('the hosted page has no nonce or CSRF field to replace');
        await requestText(
          pool,
          {
            method: 'POST',
            path: '/floor/page',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ html, nonce, csrfToken }),
          },
          [204],
        );
        const requests = checkouts.map((checkout): HttpRequest => ({
          method: 'GET',
          path: pathOf(checkout.checkout_redirect_url).replace(/^\/pay\//, '/floor/pay/'),
          headers,
        }));
        const closed = await runClosedLoop({
          connections: CONNECTIONS,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
          task: (worker) => sendRequest(pool, requests[worker]!, [200]),
        });
        return {
          closed,
          note: `${CONNECTIONS} different open checkouts; the real page's ${Buffer.byteLength(html)} bytes`,
        };
      } finally {
        await closePool(pool);
        await closePool(gatewayPool);
      }
    },
  };
}

async function createWebhookEndpoint(ctx: SuiteContext, pool: Pool, events: string[]) {
  const { json } = await requestJson<{ id: string }>(
    pool,
    {
      method: 'POST',
      path: '/v1/webhook-endpoints',
      headers: merchantHeaders(ctx.token, ctx.nextKey()),
      body: JSON.stringify({
        url: `${ctx.receiver.url}/hook`,
        enabled_events: events,
        description: 'kassa bench receiver',
      }),
    },
    [201],
  ).catch(unavailableIfMissing);
  return json.id;
}

async function deleteWebhookEndpoint(ctx: SuiteContext, pool: Pool, id: string) {
  await requestJson(
    pool,
    { method: 'DELETE', path: `/v1/webhook-endpoints/${id}`, headers: merchantHeaders(ctx.token) },
    [200, 204],
  );
}

function fullPayment(): Scenario {
  return {
    name: 'full_payment',
    title: 'full payment: checkout → POST /v1/payments (4242…) → webhook',
    server: 'gateway',
    loop: 'closed',
    async run(ctx) {
      const pool = createPool(ctx.gateway.origin, CONNECTIONS);
      let endpointId: string | undefined;
      try {
        // Probe first: is the Processor API there, and does it accept our request?
        const probe = (await requestJson<CheckoutJson>(pool, createCheckoutRequest(ctx), [201])).json;
        const payRequest = (checkoutId: string): HttpRequest => ({
          method: 'POST',
          path: '/v1/payments',
          headers: merchantHeaders(ctx.token, ctx.nextKey()),
          body: paymentRequestBody(checkoutId),
        });
        await requestJson(pool, payRequest(probe.checkout_id), [200, 201]).catch(unavailableIfMissing);
        let webhooks = 'webhook endpoints API unavailable';
        try {
          endpointId = await createWebhookEndpoint(ctx, pool, ['payment.succeeded']);
          webhooks = 'ok';
        } catch (error) {
          if (!(error instanceof Unavailable)) throw error;
        }
        const before = (await ctx.receiver.counts()).byType['payment.succeeded']?.count ?? 0;
        let paid = 0;
        const closed = await runClosedLoop({
          connections: CONNECTIONS,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
          task: async (): Promise<TaskResult> => {
            let checkout: CheckoutJson;
            try {
              checkout = (await requestJson<CheckoutJson>(pool, createCheckoutRequest(ctx), [201])).json;
            } catch (error) {
              return error instanceof RequestFailed
                ? { ok: false, status: error.status, detail: error.body }
                : { ok: false, status: 'network', detail: String(error) };
            }
            const result = await sendRequest(pool, payRequest(checkout.checkout_id), [200, 201]);
            if (result.ok) paid += 1;
            return result;
          },
        });
        const loadEnded = absoluteNow();
        const figures: Record<string, number | string | null> = { payments_made: paid, webhooks };
        let note = 'one operation = create checkout + pay';
        if (endpointId) {
          const counts = await ctx.receiver.waitFor(
            (c) => (c.byType['payment.succeeded']?.count ?? 0) - before >= paid,
            30_000,
          );
          const entry = counts.byType['payment.succeeded'];
          const received = (entry?.count ?? 0) - before;
          figures.webhooks_expected = paid;
          figures.webhooks_received = received;
          figures.webhook_last_after_load_ms = entry ? Math.max(0, Math.round(entry.last - loadEnded)) : null;
          note += `; payment.succeeded webhooks ${received}/${paid}, last ${figures.webhook_last_after_load_ms} ms after the load`;
        } else {
          note += `; ${webhooks}`;
        }
        return { closed, figures, note };
      } finally {
        if (endpointId) await deleteWebhookEndpoint(ctx, pool, endpointId).catch(() => {});
        await closePool(pool);
      }
    },
  };
}

/**
 * Outbox throughput on its own: N events committed at once (one INSERT … SELECT, what many business
 * transactions would have written), one endpoint subscribed to them, the fast receiver; the clock runs from
 * the commit to the last delivery received. A test ping wakes the worker at once (POST …/test notifies the
 * outbox), so the figure does not include an idle poll interval.
 *
 * `emitted` (the target's scenario): the events come with their delivery rows, written in the same statement
 * by the gateway's own fan-out SQL, exactly as every business transaction writes its events. `pending`: the
 * events alone, left for the worker to fan out first (the path of events written by any other means).
 */
function webhookDrain(written: 'emitted' | 'pending'): Scenario {
  // Each variant has an event type of its own, so the receiver's counts of one never include the other's.
  const type = written === 'emitted' ? 'checkout.updated' : 'order.updated';
  const events = `INSERT INTO events (id, merchant_id, livemode, type, object_id, data, fanout_state)
           SELECT 'evt_' || md5(random()::text || g::text), $1, false, $6, $3, $4::json, $5
             FROM generate_series(1, $2) AS g`;
  const insert =
    written === 'emitted'
      ? `WITH emitted AS (${events} RETURNING id, merchant_id, livemode, type, data, created_at, target_endpoint_id),
           fanned_out AS (${fanOutEmittedEventsSql('emitted')})
         SELECT 1`
      : events;
  return {
    name: written === 'emitted' ? 'webhook_drain' : 'webhook_fanout_drain',
    title:
      written === 'emitted'
        ? `webhook deliveries: ${DRAIN_EVENTS.toLocaleString('en-US')} events from the outbox`
        : `… the same events left for the worker to fan out first`,
    server: 'gateway',
    loop: 'drain',
    async run(ctx) {
      const pool = createPool(ctx.gateway.origin, 4);
      let endpointId: string | undefined;
      try {
        endpointId = await createWebhookEndpoint(ctx, pool, [type]);
        // A realistic payload: the snapshot of a real checkout (≈ 1.5 KB of JSON).
        const sample = (await requestJson<Record<string, unknown>>(pool, createCheckoutRequest(ctx), [201]))
          .json;
        const before = (await ctx.receiver.counts()).byType[type]?.count ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 50)); // the endpoint's created_at precedes the events
        await ctx.db.query(insert, [
          ctx.merchantId,
          DRAIN_EVENTS,
          String(sample.checkout_id),
          JSON.stringify(sample),
          written === 'emitted' ? 'done' : 'pending',
          type,
        ]);
        const committed = absoluteNow();
        // Only a wake-up (without it the worker finds the rows at its next poll, ≤ 1 s later), but it must
        // succeed: a refused ping would silently turn the figure into "time to the next poll".
        await requestJson(
          pool,
          {
            method: 'POST',
            path: `/v1/webhook-endpoints/${endpointId}/test`,
            headers: merchantHeaders(ctx.token, ctx.nextKey()),
            body: '{}',
          },
          [202],
        );
        const counts = await ctx.receiver.waitFor(
          (c) => (c.byType[type]?.count ?? 0) - before >= DRAIN_EVENTS,
          120_000,
        );
        const entry = counts.byType[type];
        const received = (entry?.count ?? 0) - before;
        if (!entry || received < DRAIN_EVENTS)
          return {
            status: 'failed',
            reason: `only ${received} of ${DRAIN_EVENTS} deliveries arrived within 120 s`,
          };
        const seconds = (entry.last - committed) / 1000;
        const steady = (entry.last - entry.first) / 1000;
        return {
          figures: {
            events: DRAIN_EVENTS,
            received,
            seconds: round(seconds, 2),
            per_second: round(received / seconds),
            first_delivery_after_commit_ms: Math.round(entry.first - committed),
            steady_per_second: steady > 0 ? round((received - 1) / steady) : null,
          },
          note: `${received.toLocaleString('en-US')} deliveries in ${seconds.toFixed(2)} s from commit (first after ${Math.round(entry.first - committed)} ms; ${steady > 0 ? round((received - 1) / steady).toLocaleString('en-US') : '—'}/s first→last)`,
        };
      } finally {
        if (endpointId) await deleteWebhookEndpoint(ctx, pool, endpointId).catch(() => {});
        await closePool(pool);
      }
    },
  };
}

/**
 * The API and the outbox together on the same cores: create-checkout at the closed-loop rate with an
 * endpoint subscribed to every event (2 events per checkout: checkout.created, order.created).
 */
function webhooksUnderLoad(): Scenario {
  return {
    name: 'webhooks_under_api_load',
    title: 'POST /v1/checkouts + webhooks for every event',
    server: 'gateway',
    loop: 'closed',
    async run(ctx) {
      const pool = createPool(ctx.gateway.origin, CONNECTIONS);
      let endpointId: string | undefined;
      try {
        endpointId = await createWebhookEndpoint(ctx, pool, ['*']);
        const count = async () => {
          const counts = await ctx.receiver.counts();
          return (
            (counts.byType['checkout.created']?.count ?? 0) + (counts.byType['order.created']?.count ?? 0)
          );
        };
        const before = await count();
        let created = 0;
        let atMeasureStart = 0;
        let atMeasureEnd = 0;
        const startTimer = setTimeout(() => void count().then((n) => (atMeasureStart = n)), WARMUP_MS);
        const endTimer = setTimeout(
          () => void count().then((n) => (atMeasureEnd = n)),
          WARMUP_MS + DURATION_MS,
        );
        const closed = await runClosedLoop({
          connections: CONNECTIONS,
          warmupMs: WARMUP_MS,
          durationMs: DURATION_MS,
          task: async () => {
            const result = await sendRequest(pool, createCheckoutRequest(ctx), [201]);
            if (result.ok) created += 1;
            return result;
          },
        });
        clearTimeout(startTimer);
        clearTimeout(endTimer);
        const loadEnded = absoluteNow();
        const expected = 2 * created;
        const final = await ctx.receiver.waitFor(
          (c) =>
            (c.byType['checkout.created']?.count ?? 0) + (c.byType['order.created']?.count ?? 0) - before >=
            expected,
          60_000,
        );
        const received =
          (final.byType['checkout.created']?.count ?? 0) +
          (final.byType['order.created']?.count ?? 0) -
          before;
        const lastAt = Math.max(
          final.byType['checkout.created']?.last ?? 0,
          final.byType['order.created']?.last ?? 0,
        );
        const duringLoad =
          atMeasureEnd > 0 ? round((atMeasureEnd - atMeasureStart) / (DURATION_MS / 1000)) : null;
        return {
          closed,
          figures: {
            deliveries_per_second_during_load: duringLoad,
            deliveries_expected: expected,
            deliveries_received: received,
            backlog_cleared_after_load_ms: Math.max(0, Math.round(lastAt - loadEnded)),
          },
          note: `${duringLoad?.toLocaleString('en-US') ?? '—'} deliveries/s during the load; ${received}/${expected} delivered, backlog cleared ${Math.max(0, Math.round(lastAt - loadEnded))} ms after it`,
        };
      } finally {
        if (endpointId) await deleteWebhookEndpoint(ctx, pool, endpointId).catch(() => {});
        await closePool(pool);
      }
    },
  };
}

function selectedScenarios(): Scenario[] {
  const all = allScenarios();
  if (!args.only) return all;
  const names = new Set(args.only.split(',').map((name) => name.trim()));
  const unknown = [...names].filter((name) => !all.some((scenario) => scenario.name === name));
  if (unknown.length > 0)
    throw new Error(
      `--only: unknown scenario ${unknown.join(', ')}; known: ${all.map((scenario) => scenario.name).join(', ')}`,
    );
  return all.filter((scenario) => names.has(scenario.name));
}

function allScenarios(): Scenario[] {
  return [
    baselineClosed(),
    createCheckoutClosed(),
    createCheckoutDistinctCustomers(),
    floorCreateCheckout(),
    ...OPEN_LOOP_RATES.map(createCheckoutOpen),
    baselineOpen(1000),
    paymentMethods(),
    hostedPage(),
    floorHostedPage(),
    fullPayment(),
    webhookDrain('emitted'),
    webhookDrain('pending'),
    webhooksUnderLoad(),
  ];
}

// --- A suite: one database kind ----------------------------------------------------------------------------

type DatabaseTarget = { kind: 'embedded' | 'external'; adminUrl?: string };

async function createBenchDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kassa_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      if (process.env.BENCH_KEEP_DATABASE)
        return console.log(`[bench] kept database ${name} (BENCH_KEEP_DATABASE)`);
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client
          .query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
          .catch(() => client.query(`DROP DATABASE IF EXISTS "${name}"`));
      } finally {
        await client.end();
      }
    },
  };
}

async function baselineKeys(issuer: string, audience: string, merchantId: string) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const now = Math.floor(Date.now() / 1000);
  // The same claim set and header as Kassa's RFC 9068 access tokens.
  const token = await new SignJWT({
    client_id: 'cli_bench',
    scope: 'checkouts',
    merchant_id: merchantId,
    livemode: false,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'bench' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject('cli_bench')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .setJti(randomBytes(16).toString('hex'))
    .sign(privateKey);
  return { publicKeyPem: await exportSPKI(publicKey), token };
}

async function runSuite(
  target: DatabaseTarget,
  scenarios: Scenario[],
  options: { gatewayNodeArgs?: string[]; scale?: number } = {},
): Promise<SuiteResult> {
  const scale = options.scale;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'kassa-bench-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  let databaseUrl = '';
  if (target.kind === 'external') {
    const created = await createBenchDatabase(target.adminUrl!);
    databaseUrl = created.url;
    cleanups.unshift(() => created.drop());
  }
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: databaseUrl, // empty = the embedded server
    KASSA_DATA_DIR: dataDir,
    KASSA_LOG_LEVEL: LOG_LEVEL,
    KASSA_ENV: 'development',
    KASSA_DB_POOL_MAX: String(POOL_MAX),
  };
  const stops: (() => Promise<unknown>)[] = [];
  const monitors: ProcessMonitor[] = [];
  try {
    console.log(`\n[bench] ${target.kind} database: starting the gateway…`);
    const gateway = await startGateway({ env, nodeArgs: options.gatewayNodeArgs });
    stops.push(() => gateway.stop());
    const gatewayEnv = { ...env, KASSA_PUBLIC_URL: gateway.origin };
    const merchant = await createMerchant(gatewayEnv);
    const pool = createPool(gateway.origin, 2);
    const { json: tokenJson } = await requestJson<{ access_token: string }>(
      pool,
      {
        method: 'POST',
        path: '/v1/oauth/tokens',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: merchant.client_id,
          client_secret: merchant.client_secret,
        }),
      },
      [200],
    );
    await closePool(pool);

    let dbUrl = databaseUrl;
    if (target.kind === 'embedded') {
      const port = await findRunningEmbeddedPort(dataDir);
      if (!port) throw new Error('cannot find the embedded PostgreSQL port');
      dbUrl = embeddedConnectionString(dataDir, port, 'kassa'); // the gateway's own transport
    }
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    stops.unshift(() => db.end()); // before the gateway stops (and, embedded, its PostgreSQL with it)
    const serverVersion =
      (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? null;
    let scaleHistory: ScaleHistoryResult | undefined;
    if (scale !== undefined) {
      scaleHistory = await loadHistory(gateway, tokenJson.access_token, db, merchant.merchant_id, scale);
      if (args.explain)
        await explainOnLoadedDatabase(db, merchant.merchant_id, scaleHistory.counts, target.kind, 'before');
    }

    const issuer = 'http://127.0.0.1/bench-baseline';
    const audience = `${issuer}/v1`;
    const keys = await baselineKeys(issuer, audience, merchant.merchant_id);
    const baseline = await startBaselineServer({
      BASELINE_DATABASE_URL: dbUrl,
      BASELINE_POOL_MAX: String(POOL_MAX),
      BASELINE_PUBLIC_KEY_PEM: keys.publicKeyPem,
      BASELINE_ISSUER: issuer,
      BASELINE_AUDIENCE: audience,
      BASELINE_KASSA_DATA_DIR: dataDir,
      BASELINE_KASSA_PUBLIC_URL: gateway.origin,
    });
    stops.unshift(() => baseline.stop());

    const receiver = await startWebhookReceiver();
    stops.unshift(() => receiver.close());

    const postgresParentPid = target.kind === 'embedded' ? gateway.pid : undefined;
    const gatewayMonitor = createProcessMonitor({ serverPid: gateway.pid, postgresParentPid });
    const baselineMonitor = createProcessMonitor({ serverPid: baseline.pid, postgresParentPid });
    monitors.push(gatewayMonitor, baselineMonitor);
    const runId = randomBytes(4).toString('hex');
    let sequence = 0;
    const ctx: SuiteContext = {
      gateway,
      baseline,
      monitorFor: (server) => (server === 'gateway' ? gatewayMonitor : baselineMonitor),
      db,
      merchantId: merchant.merchant_id,
      token: tokenJson.access_token,
      baselineToken: keys.token,
      receiver,
      nextKey: () => `bench-${runId}-${sequence++}`,
    };

    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      const monitor = ctx.monitorFor(scenario.server);
      console.log(`[bench] ${target.kind}: ${scenario.title}…`);
      await monitor.mark();
      const base = {
        name: scenario.name,
        title: scenario.title,
        server: scenario.server,
        loop: scenario.loop,
      };
      let result: ScenarioResult;
      try {
        const outcome = await withTimeout(scenario.run(ctx), 5 * 60_000, scenario.name);
        result = { ...base, status: 'ok', ...outcome };
      } catch (error) {
        result =
          error instanceof Unavailable
            ? { ...base, status: 'unavailable', reason: error.message }
            : {
                ...base,
                status: 'failed',
                reason: `${(error as Error).message}${explainServerError(error, gateway)}`,
              };
      }
      result.resources = await monitor.collect();
      // With an external server its CPU is part of "other", so only an embedded suite can tell disturbance.
      if (
        target.kind === 'embedded' &&
        result.status === 'ok' &&
        result.resources.other_cpu_percent > DISTURBED_OTHER_CPU_PERCENT
      )
        result.note =
          `⚠ disturbed: other processes used ${result.resources.other_cpu_percent} % CPU. ${result.note ?? ''}`.trim();
      results.push(result);
      console.log(`[bench]   ${summaryLine(result)}`);
    }

    if (scaleHistory && args.explain)
      await explainOnLoadedDatabase(db, merchant.merchant_id, await countScaleRows(db), target.kind, 'after');

    const gatewayScenarios = results.filter((r) => r.server === 'gateway' && r.resources);
    const maxOf = (pick: (r: ScenarioResult) => number | null | undefined) => {
      const values = gatewayScenarios.map(pick).filter((v): v is number => typeof v === 'number');
      return values.length ? Math.max(...values) : null;
    };
    const suite: SuiteResult = {
      database: { kind: target.kind, server_version: serverVersion, pool_max: POOL_MAX },
      started_at: startedAt,
      seconds: 0,
      scenarios: results,
      targets: [],
      gateway_rss_max_mb: maxOf((r) => r.resources?.gateway_rss_max_mb),
      postgres_footprint_max_mb: maxOf((r) => r.resources?.postgres_footprint_max_mb),
      ...(scaleHistory
        ? { scale_history: { scale: scale!, seconds: scaleHistory.seconds, counts: scaleHistory.counts } }
        : {}),
    };
    suite.targets = evaluateTargets(suite);
    return suite;
  } finally {
    for (const monitor of monitors) monitor.stop();
    for (const stop of stops)
      await stop().catch((error: unknown) => console.error('[bench] stop failed:', error));
    for (const cleanup of cleanups)
      await cleanup().catch((error: unknown) => console.error('[bench] cleanup failed:', error));
    console.log(`[bench] ${target.kind}: done in ${Math.round((performance.now() - started) / 1000)} s`);
  }
}

/**
 * `--scale`: the history of bench/scale-history.ts, loaded through the bench's own connection. The history's
 * webhook endpoints need a secret sealed by this gateway's keyring: an endpoint created (and deleted again)
 * through the API lends its sealed secret.
 */
async function loadHistory(
  gateway: ServerProcess,
  token: string,
  db: pg.Client,
  merchantId: string,
  scale: number,
): Promise<ScaleHistoryResult> {
  const pool = createPool(gateway.origin, 2);
  try {
    const headers = (key?: string) => merchantHeaders(token, key);
    const { json } = await requestJson<{ id: string }>(
      pool,
      {
        method: 'POST',
        path: '/v1/webhook-endpoints',
        headers: headers(`bench-scale-${randomBytes(4).toString('hex')}`),
        body: JSON.stringify({ url: 'http://127.0.0.1:9/scale-history', enabled_events: ['*'] }),
      },
      [201],
    );
    await requestJson(
      pool,
      {
        method: 'DELETE',
        path: `/v1/webhook-endpoints/${json.id}`,
        headers: { authorization: `Bearer ${token}` },
      },
      [200, 204],
    );
    const { rows } = await db.query<{ secret_encrypted: Buffer }>(
      'SELECT secret_encrypted FROM webhook_endpoints WHERE id = $1',
      [json.id],
    );
    console.log(`[bench] loading the scale history (×${scale}) in SQL…`);
    const loaded = await loadScaleHistory(db, {
      scale,
      benchMerchantId: merchantId,
      webhookSecretEncrypted: rows[0]!.secret_encrypted,
      log: (message) => console.log(`[bench]   ${message}`),
    });
    console.log(
      `[bench] history loaded in ${loaded.seconds} s (VACUUM (ANALYZE) and CHECKPOINT included): ${Object.entries(
        loaded.counts,
      )
        .map(([table, n]) => `${table} ${n.toLocaleString('en-US')}`)
        .join(', ')}`,
    );
    return loaded;
  } finally {
    await closePool(pool);
  }
}

/**
 * `--scale --explain`: the hot statements' plans on the loaded database — right after the load and its
 * ANALYZE (`before`), and again after the scenarios (`after`: the bench's own rows added, no new ANALYZE
 * unless autovacuum ran one, the state in which a stale statistic would show).
 */
async function explainOnLoadedDatabase(
  db: pg.Client,
  merchantId: string,
  counts: Record<string, number>,
  kind: DatabaseTarget['kind'],
  when: 'before' | 'after',
) {
  console.log(`[bench] EXPLAIN (ANALYZE, BUFFERS) of the hot statements (${when} the scenarios)…`);
  const explained = await explainHotStatements(db, merchantId);
  const version = (await db.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
  const file = `scale-explain-${when}${kind === 'embedded' ? '' : `-${kind}`}.md`;
  const text = [
    `# Hot statements on the loaded database, ${when} the scenarios (${kind} PostgreSQL ${version})`,
    '',
    `Generated ${new Date().toISOString()} by \`npm run bench -- --scale=${SCALE} --explain\`${
      when === 'before'
        ? ', right after the history was loaded and analysed, before any scenario'
        : ', after the scenarios (their rows included; no ANALYZE since the load but what autovacuum ran)'
    }. Each statement prepared and run in a transaction rolled back.`,
    '',
    formatExplained(explained, counts),
    '',
    '## Plans',
    '',
    formatPlans(explained),
  ].join('\n');
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(path.join(RESULTS_DIR, file), `${text}\n`);
  console.log(`${formatExplained(explained, counts)}\n[bench] wrote bench/results/${file}`);
}

/** For a 5xx answer: the gateway's own log line about that request (its error message), if it logged one. */
function explainServerError(error: unknown, gateway: ServerProcess): string {
  if (!(error instanceof RequestFailed) || error.status < 500) return '';
  const requestId = /"request_id":"([^"]+)"/.exec(error.body)?.[1];
  const line = requestId
    ? gateway
        .output()
        .split('\n')
        .find((entry) => entry.includes(requestId))
    : undefined;
  if (!line) return '';
  try {
    const logged = JSON.parse(line) as { err?: { message?: string; stack?: string } };
    return ` — gateway log: ${logged.err?.message ?? line.slice(0, 300)} ${(logged.err?.stack ?? '').split('\n').slice(1, 3).join(' ').trim()}`;
  } catch {
    return ` — gateway log: ${line.slice(0, 300)}`;
  }
}

function summaryLine(result: ScenarioResult): string {
  if (result.status !== 'ok') return `${result.status}: ${result.reason ?? ''}`;
  const stats = result.closed ?? result.open;
  const parts = [
    stats
      ? `${stats.per_second.toLocaleString('en-US')}/s, p50 ${stats.p50_ms} ms, p99 ${stats.p99_ms} ms, max ${stats.max_ms} ms, errors ${stats.errors}`
      : '',
    result.note ?? '',
    result.resources
      ? `server RSS ${result.resources.gateway_rss_max_mb} MB, CPU ${result.resources.gateway_cpu_percent} %`
      : '',
  ];
  return parts.filter(Boolean).join('; ');
}

function machineInfo(): BenchReport['machine'] {
  let gitCommit: string | null = null;
  let uncommitted = false;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    // Changed tracked files, the benchmark's own results aside (they are rewritten by every run).
    const changed = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    uncommitted = changed.trim() !== '';
  } catch {
    gitCommit = null;
  }
  return {
    nproc: os.availableParallelism(),
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node_version: process.version,
    git_commit: gitCommit,
    git_uncommitted_changes: uncommitted,
    load_average_at_start: round(os.loadavg()[0] ?? 0, 2),
  };
}

/** The suites to run, in order: each database kind `--runs` times, or `--pairs` times empty then loaded. */
function suitePlan(): { target: DatabaseTarget; scale: number | undefined }[] {
  const rounds = PAIRS ?? RUNS;
  const scales = PAIRS !== undefined ? [undefined, SCALE] : [SCALE];
  return Array.from({ length: rounds }, () =>
    databaseTargets().flatMap((target) => scales.map((scale) => ({ target, scale }))),
  ).flat();
}

function databaseTargets(): DatabaseTarget[] {
  const targets: DatabaseTarget[] = [];
  if (args.db === 'all' || args.db === 'embedded') targets.push({ kind: 'embedded' });
  if ((args.db === 'all' || args.db === 'external') && process.env.DATABASE_URL)
    targets.push({ kind: 'external', adminUrl: process.env.DATABASE_URL });
  if (targets.length === 0) throw new Error(`--db ${args.db}: nothing to run (DATABASE_URL is not set?)`);
  return targets;
}

/**
 * `--profile`: the gateway under --cpu-prof through one scenario (create_checkout, or the one named by
 * --only), then a summary of the measured window.
 */
async function profileScenario() {
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'kassa-cpuprof-'));
  try {
    const scenario = args.only ? selectedScenarios()[0]! : createCheckoutClosed();
    if (scenario.server !== 'gateway')
      throw new Error(`--profile profiles the gateway; ${scenario.name} runs on the baseline`);
    // The measured window on the monotonic clock the profile uses (see summariseProfile): after the warm-up
    // for a load loop, the whole scenario for a drain.
    const window = { fromMicros: 0, toMicros: Number.MAX_SAFE_INTEGER };
    const measured: Scenario = {
      ...scenario,
      async run(ctx) {
        const startMicros = Number(process.hrtime.bigint() / 1000n);
        if (scenario.loop !== 'drain') {
          window.fromMicros = startMicros + WARMUP_MS * 1000;
          window.toMicros = window.fromMicros + DURATION_MS * 1000;
        } else {
          window.fromMicros = startMicros;
        }
        const result = await scenario.run(ctx);
        if (scenario.loop === 'drain') window.toMicros = Number(process.hrtime.bigint() / 1000n);
        return result;
      },
    };
    const suite = await runSuite({ kind: 'embedded' }, [measured], {
      gatewayNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--cpu-prof-interval=500'],
    });
    const files = (await readdir(profileDir)).filter((file) => file.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error('no .cpuprofile was written (did the gateway exit cleanly?)');
    // One file per thread (Node 20 also runs the tsx module loader in a thread of its own): the gateway's
    // main thread is the one that was busy the longest.
    let summary: ReturnType<typeof summariseProfile> | undefined;
    let mainThreadFile = files[0]!;
    for (const file of files) {
      const profile = JSON.parse(await readFile(path.join(profileDir, file), 'utf8'));
      const candidate = summariseProfile(profile, 30, window);
      if (!summary || candidate.busy_ms > summary.busy_ms) {
        summary = candidate;
        mainThreadFile = file;
      }
    }
    summary = summary!;
    const result = suite.scenarios[0];
    const stats = result?.closed ?? result?.open;
    const text = [
      `# CPU profile of the gateway: ${scenario.title}`,
      '',
      `Generated ${new Date().toISOString()} by \`npm run bench -- --profile\`: ${result?.status !== 'ok' ? `${result?.status}: ${result?.reason}` : stats ? `${stats.per_second}/s, p99 ${stats.p99_ms} ms` : (result.note ?? '')} with the profiler on (it slows the process down).`,
      '',
      `Only the measured window is summarised (start-up and warm-up excluded). CPU during the scenario: ` +
        `gateway ${suite.scenarios[0]?.resources?.gateway_cpu_percent ?? '?'} %, PostgreSQL ${suite.scenarios[0]?.resources?.postgres_cpu_percent ?? '?'} %, ` +
        `load generator ${suite.scenarios[0]?.resources?.bench_cpu_percent ?? '?'} %, other processes ${suite.scenarios[0]?.resources?.other_cpu_percent ?? '?'} % (of one core).`,
      '',
      formatProfileSummary(summary),
    ].join('\n');
    await mkdir(RESULTS_DIR, { recursive: true });
    const base = `profile-${scenario.name.replace(/_/g, '-')}`;
    await writeFile(path.join(RESULTS_DIR, `${base}.md`), `${text}\n`);
    await writeFile(
      path.join(RESULTS_DIR, `${base}.json`),
      `${JSON.stringify({ scenario: suite.scenarios[0], summary }, null, 2)}\n`,
    );
    // The whole profile (start-up and warm-up included), for a flame graph in Chrome DevTools or speedscope.
    const wholeProfile = path.join(RESULTS_DIR, `${base}.cpuprofile`);
    await copyFile(path.join(profileDir, mainThreadFile), wholeProfile);
    console.log(`\n${text}`);
    console.log(`\n[bench] the whole profile: ${path.relative(ROOT, wholeProfile)}`);
  } finally {
    await rm(profileDir, { recursive: true, force: true });
  }
}

/** Scenarios during which other processes used more than this (% of one core) are flagged as disturbed. */
const DISTURBED_OTHER_CPU_PERCENT = 25;

async function main() {
  if (os.platform() !== 'linux') console.error('[bench] warning: memory and CPU figures need Linux /proc');
  if (args['wait-quiet'] !== undefined) {
    const { busyPercent, quiet } = await waitForQuietBox({
      maxWaitMs: Math.min(3600, Number(args['wait-quiet']) || 600) * 1000,
      thresholdPercent: 20,
      log: (message) => console.log(`[bench] ${message}`),
    });
    console.log(`[bench] ${quiet ? 'the machine is quiet' : 'gave up waiting'} (${busyPercent} % CPU busy)`);
  }
  if (args.profile) return profileScenario();
  const started = performance.now();
  const report: BenchReport = {
    generated_at: new Date().toISOString(),
    machine: machineInfo(),
    settings: {
      quick: args.quick ?? false,
      warmup_seconds: WARMUP_MS / 1000,
      duration_seconds: DURATION_MS / 1000,
      connections: CONNECTIONS,
      open_loop_rates: OPEN_LOOP_RATES,
      log_level: LOG_LEVEL,
      webhook_drain_events: DRAIN_EVENTS,
      ...(SCALE !== undefined ? { scale: SCALE } : {}),
      ...(RUNS > 1 ? { runs: RUNS } : {}),
      ...(PAIRS !== undefined ? { pairs: PAIRS } : {}),
    },
    suites: [],
  };
  for (const { target, scale } of suitePlan()) {
    const suiteStarted = performance.now();
    let suite: SuiteResult;
    try {
      suite = await runSuite(target, selectedScenarios(), { scale });
    } catch (error) {
      // One database kind failing (e.g. DATABASE_URL unreachable) must not lose the other kind's results.
      console.error(`[bench] the ${target.kind} suite failed:`, error);
      suite = {
        database: { kind: target.kind, server_version: null, pool_max: POOL_MAX },
        started_at: new Date().toISOString(),
        seconds: 0,
        scenarios: [],
        targets: [],
        gateway_rss_max_mb: null,
        postgres_footprint_max_mb: null,
        error: (error as Error).message,
      };
      suite.targets = evaluateTargets(suite);
    }
    suite.seconds = Math.round((performance.now() - suiteStarted) / 1000);
    report.suites.push(suite);
  }
  if (RUNS > 1)
    report.bar_medians = (['embedded', 'external'] as const)
      .map((kind) => ({
        database: kind,
        figures: barMedians(report.suites.filter((suite) => suite.database.kind === kind && !suite.error)),
      }))
      .filter((entry) => report.suites.some((suite) => suite.database.kind === entry.database));
  if (PAIRS !== undefined)
    report.scale_pairs = databaseTargets().map((target) => scalePairs(target.kind, report.suites));
  const markdown = [formatReport(report), formatScalePairs(report)].join('\n');
  console.log(`\n${markdown}`);
  const seconds = Math.round((performance.now() - started) / 1000);
  if (report.suites.some((suite) => suite.error)) process.exitCode = 1;
  if (args.only) {
    console.log(`[bench] finished in ${seconds} s (--only: bench/results/ left as it was)`);
    return;
  }
  await mkdir(RESULTS_DIR, { recursive: true });
  // A scale run is a different experiment: it never replaces the empty-database results.
  const base = PAIRS !== undefined ? 'scale-pairs-latest' : SCALE !== undefined ? 'scale-latest' : 'latest';
  await writeFile(path.join(RESULTS_DIR, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, `${base}.md`), `${markdown}\n`);
  console.log(`[bench] finished in ${seconds} s; wrote bench/results/${base}.{json,md}`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error('[bench] failed:', error);
    process.exit(1);
  },
);
