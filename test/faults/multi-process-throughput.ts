/**
 * Throughput of 1, 2 and 3 `kassa serve` processes on one PostgreSQL server (docs/operations.md, "Scaling"):
 * for each count, a fresh database, N processes, and a closed loop of CONCURRENCY clients round-robined over
 * them doing "create a checkout, pay it (approved card, automatic capture)" for SECONDS seconds.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx node --import tsx test/faults/multi-process-throughput.ts
 *
 * DATABASE_URL names a server and a role that may create databases; the script creates and drops its own.
 * Not a test (vitest does not run it): a measurement for the operations guide.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createMerchantWithCredentials } from '../../src/modules/merchants/merchant.service.ts';
import { startGatewayProcess, type GatewayProcess } from '../fixtures/gateway-process.ts';
import { cardMethod } from '../e2e/payments/payment-fixtures.ts';
import { checkoutRequest, simpleOrder } from '../e2e/checkouts/checkout-fixtures.ts';

const SECONDS = Number(process.env.SECONDS_PER_RUN ?? 15);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 24);
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('set DATABASE_URL to a PostgreSQL server (a role that may create databases)');

function withDatabase(url: string, name: string) {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function measure(processes: number) {
  const name = `kassa_throughput_${processes}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = withDatabase(adminUrl!, name);
  const db = createDatabase({ connectionString: url, max: 2 });
  const scratch = await mkdtemp(path.join(tmpdir(), 'kassa-throughput-'));
  const gateways: GatewayProcess[] = [];
  try {
    await migrate(db);
    const { credentials } = await db.transaction((tx) =>
      createMerchantWithCredentials(tx, { name: 'Throughput', livemode: false, cardDataPermitted: true }),
    );
    const env = {
      DATABASE_URL: url,
      KASSA_ENV: 'test',
      KASSA_LOG_LEVEL: 'warn',
      KASSA_DEMO: 'false',
      KASSA_MASTER_KEY: randomBytes(32).toString('base64'),
    };
    for (let n = 0; n < processes; n += 1) {
      await mkdir(path.join(scratch, `d${n}`));
      gateways.push(await startGatewayProcess({ ...env, KASSA_DATA_DIR: path.join(scratch, `d${n}`) }));
    }
    let counter = 0;
    let done = 0;
    const latencies: number[] = [];
    const deadline = Date.now() + SECONDS * 1000;
    const send = async (url: string, body: unknown) => {
      const gateway = gateways[(counter += 1) % gateways.length]!;
      const response = await fetch(`${gateway.baseUrl}${url}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${credentials.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify(body),
      }).catch((error: unknown) => {
        throw new Error(
          `${gateway.baseUrl}${url}: ${String(error)}; the gateway said:\n${gateway.output().slice(-3000)}`,
        );
      });
      const text = await response.text();
      if (response.status >= 300) throw new Error(`${url}: ${response.status} ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        for (let i = 0; Date.now() < deadline; i += 1) {
          const started = performance.now();
          const checkout = await send(
            '/v1/checkouts',
            checkoutRequest(simpleOrder('EUR', 'DE', 1_000 + i, `tp-${worker}-${i}`), {
              capture_mode: 'automatic',
            }),
          );
          await send('/v1/payments', { checkout_id: checkout.checkout_id, payment_method: cardMethod() });
          latencies.push(performance.now() - started);
          done += 1;
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const p = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(0);
    return { processes, perSecond: done / SECONDS, p50: p(0.5), p99: p(0.99) };
  } finally {
    for (const gateway of gateways) {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
    await rm(scratch, { recursive: true, force: true });
  }
}

const results = [];
for (const processes of [1, 2, 3]) results.push(await measure(processes));
console.log(`create checkout + pay, ${CONCURRENCY} concurrent clients, ${SECONDS} s per run:`);
for (const r of results) {
  console.log(
    `  ${r.processes} process(es): ${r.perSecond.toFixed(0)} checkout+payment/s  p50 ${r.p50} ms  p99 ${r.p99} ms`,
  );
}
