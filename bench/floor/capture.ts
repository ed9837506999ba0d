import pg from 'pg';
import { createPool, runClosedLoop } from '../load-generator.ts';
import { openGatewaySession } from './gateway-session.ts';

/**
 * Captures the SQL that full payments of `npm run bench` send (create checkout + POST /v1/payments with a test
 * card + the webhook to a local receiver), as PostgreSQL receives it, in its server log.
 *
 *   node --import tsx bench/floor/capture.ts
 *   FLOOR_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres (default)   a server whose log you can read
 *   FLOOR_PAYMENTS=3 (default)   payments one after another between the markers, each waiting for its webhook
 *   FLOOR_LOAD_SECONDS=3         instead: the bench's closed loop (50 connections) for 3 s between the markers,
 *                                statements logged without their parameters — to count how often the worker's
 *                                batched statements run per payment under load
 *
 * It creates the database `floor_capture` with `log_statement = all` for that database only (no server-wide
 * setting), runs the real gateway against it, warms up with five payments, writes a marker statement
 * (`SELECT 'floor-capture-begin'`), pays, writes `SELECT 'floor-capture-end'`, and drops the database. Read the
 * statements between the markers in the server log (Debian: /var/log/postgresql/postgresql-*-main.log);
 * bench/floor/current.sql is their replay.
 */

const ADMIN_URL = process.env.FLOOR_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PAYMENTS = Number(process.env.FLOOR_PAYMENTS ?? 3);
const LOAD_SECONDS = Number(process.env.FLOOR_LOAD_SECONDS ?? 0);
const DATABASE = 'floor_capture';

const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
await admin.query(`CREATE DATABASE ${DATABASE}`);
await admin.query(`ALTER DATABASE ${DATABASE} SET log_statement = 'all'`);
if (LOAD_SECONDS > 0) await admin.query(`ALTER DATABASE ${DATABASE} SET log_parameter_max_length = 0`);
const databaseUrl = new URL(ADMIN_URL);
databaseUrl.pathname = `/${DATABASE}`;

const session = await openGatewaySession(databaseUrl.toString());
const marker = new pg.Client({ connectionString: databaseUrl.toString() });
try {
  for (let i = 0; i < 5; i += 1) await session.pay(); // warm: caches, prepared statements, the worker
  await marker.connect();
  await marker.query(`SELECT 'floor-capture-begin'`);
  if (LOAD_SECONDS > 0) {
    const pool = createPool(session.origin, 50);
    const before = (await session.receiver.counts()).total;
    let paid = 0;
    await runClosedLoop({
      connections: 50,
      warmupMs: 0,
      durationMs: LOAD_SECONDS * 1000,
      task: async () => {
        await session.payment(pool);
        paid += 1;
        return { ok: true };
      },
    });
    const counts = await session.receiver.waitFor((c) => c.total - before >= paid, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await pool.close();
    console.log(`load: ${paid} payments, ${counts.total - before} webhooks received`);
  } else {
    for (let i = 0; i < PAYMENTS; i += 1) {
      await marker.query(`SELECT 'floor-capture-payment-${i}'`);
      await session.pay();
    }
  }
  await marker.query(`SELECT 'floor-capture-end'`);
  console.log('captured: the statements between floor-capture-begin and floor-capture-end in the server log');
} finally {
  await marker.end().catch(() => {});
  await session.close();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.end();
}
