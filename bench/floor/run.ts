import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPool, runClosedLoop } from '../load-generator.ts';
import { openGatewaySession, type GatewaySession } from './gateway-session.ts';

/**
 * The payment's SQL floor: what PostgreSQL alone spends on the SQL of one full payment of `npm run bench`
 * (create checkout + POST /v1/payments + settle + the webhook's delivery), with no gateway in the way.
 *
 *   node_modules/.bin/node --import tsx bench/floor/run.ts      (the project's Node, as `npm run bench` uses)
 *   FLOOR_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres   the server (default; it must run on this machine:
 *                                                                 its CPU is read from /proc)
 *   FLOOR_SECONDS=20            each pgbench run
 *   FLOOR_CLIENTS=1,2           pgbench clients (-c, -j) per run
 *   FLOOR_SCRIPTS=current,minimum,current-async,current-no-ledger,minimum-no-ledger   which replays (all by default)
 *   FLOOR_SOCKET_DIR=/var/run/postgresql   pgbench connects through this unix socket when it is there (else TCP)
 *   FLOOR_REPEAT=3              every run three times (rounds alternate the replays); prints the medians too
 *   FLOOR_WAIT_QUIET=120        before each run, wait up to 120 s for a quiet machine (another agent's work)
 *   FLOOR_KEEP_DATABASE=1       leave floor_replay in place to inspect it (drop it yourself afterwards)
 *   FLOOR_PAYMENTS_PER_TURN=9   payments per webhook-worker turn (the bench's full_payment load, counted with
 *                               bench/floor/capture.ts: 42 claims and 35 batched records for 371 payments)
 *
 * It creates the database `floor_replay` (dropped at the end), lets the real gateway apply the migrations and
 * make one merchant, one webhook endpoint (payment.succeeded) and one payment, then reads that payment's own
 * payloads (events' data, the encrypted idempotency answers, the sandbox ledger's results) and hands them to
 * pgbench with -D, so every replayed payment writes rows of the same sizes. Replays:
 * - current: bench/floor/current.sql (the statements the gateway sends, captured with bench/floor/capture.ts)
 *   and bench/floor/worker.sql once per FLOOR_PAYMENTS_PER_TURN payments;
 * - minimum: bench/floor/minimum.sql (only what the product's contract requires; see docs/performance.md) and
 *   bench/floor/minimum-worker.sql likewise;
 * - current-async: current with `synchronous_commit = off` (a data point only: the product keeps it on);
 * - gateway: for calibration, the real thing measured the same way: the bench's closed loop (50 connections, create
 *   checkout + pay) against the gateway that seeded the database (its pid's CPU is printed as pgbench's);
 * - current-no-ledger, minimum-no-ledger: without the sandbox acquirer's ledger statement (a real acquirer is
 *   another company's database; the bench's sandbox writes it into Kassa's).
 * PostgreSQL's CPU is read from /proc (utime + stime of the postmaster's children: the replay's backends and the
 * server's own processes, e.g. WAL writer and checkpointer) between 2 s after the start and 2 s before the end of
 * each run, and divided by the payments committed meanwhile; the rest of the machine's CPU is printed beside.
 */

const ADMIN_URL = process.env.FLOOR_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.FLOOR_SECONDS ?? 20);
const CLIENTS = (process.env.FLOOR_CLIENTS ?? '1,2').split(',').map(Number);
const SCRIPTS = (
  process.env.FLOOR_SCRIPTS ?? 'current,minimum,current-async,current-no-ledger,minimum-no-ledger'
).split(',');
const PER_TURN = Number(process.env.FLOOR_PAYMENTS_PER_TURN ?? 9);
// pgbench talks to the server through its unix socket when there is one, as the gateway does with the embedded
// server (over loopback TCP each round trip costs both sides more kernel time).
const SOCKET_DIR = process.env.FLOOR_SOCKET_DIR ?? '/var/run/postgresql';
const QUIET_SECONDS = Number(process.env.FLOOR_WAIT_QUIET ?? 0);
const REPEAT = Number(process.env.FLOOR_REPEAT ?? 1);
const DATABASE = 'floor_replay';
const HERE = fileURLToPath(new URL('.', import.meta.url));
const TICKS_PER_SECOND = 100;

const REPLAYS: Record<string, { payment: string; worker: string; setup?: string; ledger?: boolean }> = {
  current: { payment: 'current.sql', worker: 'worker.sql' },
  minimum: { payment: 'minimum.sql', worker: 'minimum-worker.sql' },
  'current-async': { payment: 'current.sql', worker: 'worker.sql', setup: 'synchronous_commit=off' },
  'current-no-ledger': { payment: 'current.sql', worker: 'worker.sql', ledger: false },
  'minimum-no-ledger': { payment: 'minimum.sql', worker: 'minimum-worker.sql', ledger: false },
  gateway: { payment: '', worker: '' },
};

/** The payloads of the seed payment, as pgbench variables. */
async function payloads(db: pg.Client): Promise<Record<string, string>> {
  const merchant = (
    await db.query<{ id: string }>('SELECT merchant_id AS id FROM webhook_endpoints LIMIT 1')
  ) // the bench merchant's
  .rows[0]!.id;
  const one = async (sql: string) => {
    const { rows } = await db.query<{ value: string }>(sql, [merchant]);
    if (!rows[0]) throw new Error(`the seed payment has no row for: ${sql}`);
    return rows[0].value;
  };
  const event = (type: string, version: number) =>
    one(
      `SELECT data::text AS value FROM events WHERE merchant_id = $1 AND type = '${type}' AND object_version = ${version}`,
    );
  return {
    mer: merchant,
    cus: await one('SELECT id AS value FROM customers WHERE merchant_id = $1'),
    cli: await one(
      `SELECT actor_id AS value FROM events WHERE merchant_id = $1 AND type = 'payment.succeeded'`,
    ),
    tp: await one(
      `SELECT traceparent AS value FROM events WHERE merchant_id = $1 AND type = 'payment.succeeded'`,
    ),
    fp: await one(`SELECT request_fingerprint AS value FROM idempotency_keys WHERE merchant_id = $1 LIMIT 1`),
    discounts: await one('SELECT discounts::text AS value FROM orders WHERE merchant_id = $1'),
    products: await one('SELECT products::text AS value FROM orders WHERE merchant_id = $1'),
    idem_checkout: await one(
      `SELECT response_body AS value FROM idempotency_keys WHERE merchant_id = $1 AND request_path = '/v1/checkouts'`,
    ),
    idem_payment: await one(
      `SELECT response_body AS value FROM idempotency_keys WHERE merchant_id = $1 AND request_path = '/v1/payments'`,
    ),
    sbx_authorize: await one(
      `SELECT o.result::text AS value FROM sandbox_acquirer_operations o JOIN payments p ON p.id = o.payment_id
        WHERE p.merchant_id = $1 AND o.kind = 'authorize'`,
    ),
    sbx_capture: await one(
      `SELECT o.result::text AS value FROM sandbox_acquirer_operations o JOIN payments p ON p.id = o.payment_id
        WHERE p.merchant_id = $1 AND o.kind = 'capture'`,
    ),
    return_url: await one(
      `SELECT s.return_url AS value FROM sandbox_acquirer_payments s JOIN payments p ON p.id = s.payment_id
        WHERE p.merchant_id = $1`,
    ),
    ev_checkout_created: await event('checkout.created', 1),
    ev_order_created: await event('order.created', 1),
    ev_order_updated_2: await event('order.updated', 2),
    ev_checkout_completed: await event('checkout.completed', 3),
    ev_payment_authorized: await event('payment.authorized', 2),
    ev_order_updated_3: await event('order.updated', 3),
    ev_payment_captured: await event('payment.captured', 3),
    ev_payment_succeeded: await event('payment.succeeded', 3),
  };
}

type ProcStat = { pid: number; ppid: number; ticks: number; childTicks: number; cmdline: string };

function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
    return {
      pid,
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      childTicks: Number(fields[13]) + Number(fields[14]),
      cmdline,
    };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** CPU ticks of the server's processes: this database's backends, other clients' backends, the server's own. */
function serverTicks(postmaster: number) {
  const totals = { replay: 0, otherClients: 0, server: 0 };
  const self = procStat(postmaster);
  if (self) totals.server += self.ticks + self.childTicks; // exited children (autovacuum workers…) land here
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (!stat || stat.ppid !== postmaster) continue;
    if (stat.cmdline.includes(` ${DATABASE} `)) totals.replay += stat.ticks;
    else if (/ \S+ \S+ (\[local\]|[\d.]+\(\d+\)|::1)/.test(stat.cmdline)) totals.otherClients += stat.ticks;
    else totals.server += stat.ticks;
  }
  return totals;
}

/** Every process's CPU ticks by pid (to name what else ran meanwhile). */
function allTicks() {
  const ticks = new Map<number, { ticks: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) ticks.set(stat.pid, { ticks: stat.ticks, name: stat.cmdline.slice(0, 40) || `[${stat.pid}]` });
  }
  return ticks;
}

/** The processes (not PostgreSQL's, not pgbench) that used the most CPU between two `allTicks()`. */
function busiestOthers(
  before: ReturnType<typeof allTicks>,
  after: ReturnType<typeof allTicks>,
  seconds: number,
) {
  return [...after]
    .map(([pid, { ticks, name }]) => ({ name, ticks: ticks - (before.get(pid)?.ticks ?? 0) }))
    .filter(({ name, ticks }) => ticks > 0 && !name.startsWith('postgres') && !name.startsWith('pgbench'))
    .sort((a, b) => b.ticks - a.ticks)
    .slice(0, 3)
    .map(({ name, ticks }) => `${name} ${Math.round((ticks / TICKS_PER_SECOND / seconds) * 100)} %`)
    .join('; ');
}

/** All CPUs' busy and total ticks (/proc/stat). */
function machineTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + cpu[4]!;
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (at most FLOOR_WAIT_QUIET seconds) until the machine was below a quarter of a core busy for 3 s. */
async function waitForQuiet() {
  const deadline = performance.now() + QUIET_SECONDS * 1000;
  let quiet = 0;
  while (quiet < 3 && performance.now() < deadline) {
    const before = machineTicks();
    await sleep(1000);
    quiet = machineTicks().busy - before.busy < TICKS_PER_SECOND / 4 ? quiet + 1 : 0;
  }
  return quiet >= 3;
}

async function replay(
  db: pg.Client,
  url: string,
  vars: Record<string, string>,
  name: string,
  clients: number,
) {
  const spec = REPLAYS[name];
  if (!spec) throw new Error(`unknown replay ${name}`);
  const args = ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(clients), '-T', String(SECONDS)];
  for (const [key, value] of Object.entries(vars)) args.push('-D', `${key}=${value}`);
  args.push('-D', `ledger=${spec.ledger === false ? 0 : 1}`);
  const target = new URL(url);
  const socket = `${SOCKET_DIR}/.s.PGSQL.${target.port || 5432}`;
  if (existsSync(socket)) target.searchParams.set('host', SOCKET_DIR);
  args.push('-f', `${HERE}${spec.payment}@${PER_TURN}`, '-f', `${HERE}${spec.worker}@1`, target.toString());
  const env = { ...process.env, ...(spec.setup ? { PGOPTIONS: `-c ${spec.setup}` } : {}) };
  const rows = async () =>
    (
      await db.query<Record<string, string>>(`SELECT
        (SELECT count(*) FROM captures) AS payments, (SELECT count(*) FROM events) AS events,
        (SELECT count(*) FROM webhook_deliveries) AS deliveries,
        (SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded') AS delivered,
        (SELECT count(*) FROM webhook_delivery_attempts) AS attempts,
        (SELECT count(*) FROM sandbox_acquirer_operations) AS ledger`)
    ).rows[0]!;
  // Every run starts from an empty payment history (the seed's merchant, customer and endpoint stay), so runs
  // compare like with like: the tables grow past shared_buffers within a few runs and each payment then costs more.
  await db.query(`TRUNCATE checkouts, orders, payments, captures, events, webhook_deliveries,
    webhook_delivery_attempts, idempotency_keys, sandbox_acquirer_operations, sandbox_acquirer_payments CASCADE`);
  await db.query('CHECKPOINT');
  const quiet = QUIET_SECONDS > 0 ? await waitForQuiet() : undefined;
  const tableWrites = async () =>
    (
      await db.query<{ relname: string; ins: string; upd: string; hot: string }>(
        `SELECT relname, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables`,
      )
    ).rows;
  const writesBefore = await tableWrites();
  const rowsBefore = await rows();
  let output = '';
  let exited: Promise<number>;
  let loadPid: number;
  let session: GatewaySession | undefined;
  if (name === 'gateway') {
    // A gateway of its own for this run (a merchant and an endpoint of its own too), stopped afterwards.
    session = await openGatewaySession(gatewayUrl(), gatewayDataDir);
    await session.pay();
    const pool = createPool(session.origin, 50);
    loadPid = session.pid;
    exited = runClosedLoop({
      connections: 50,
      warmupMs: 0,
      durationMs: SECONDS * 1000,
      task: async () => {
        await session!.payment(pool);
        return { ok: true };
      },
    }).then(
      async () => {
        await pool.close();
        return 0;
      },
      (error: unknown) => {
        output = String(error);
        return 1;
      },
    );
  } else {
    const child = spawn('pgbench', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    loadPid = child.pid!;
  }
  const postmaster = procStat(
    (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid,
  )!.ppid;
  const captures = async () => Number((await db.query('SELECT count(*) AS n FROM captures')).rows[0].n);
  const wal = async () =>
    (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  await sleep(2000);
  const start = {
    at: performance.now(),
    server: serverTicks(postmaster),
    machine: machineTicks(),
    paid: await captures(),
    pgbench: procStat(loadPid)?.ticks ?? 0,
    all: allTicks(),
    wal: await wal(),
  };
  await sleep((SECONDS - 4) * 1000);
  const end = {
    at: performance.now(),
    server: serverTicks(postmaster),
    machine: machineTicks(),
    paid: await captures(),
    pgbench: procStat(loadPid)?.ticks ?? 0,
    all: allTicks(),
    wal: await wal(),
  };
  if ((await exited) !== 0) throw new Error(`${name} failed:\n${output}`);
  if (session) {
    await sleep(1000); // the last webhooks' records
    await session.close();
  }
  await sleep(1000); // the backends' statistics, sent as they exit
  const rowsAfter = await rows();
  const writesAfter = await tableWrites();
  const made = Number(rowsAfter.payments) - Number(rowsBefore.payments);
  const perPayment = Object.keys(rowsAfter)
    .filter((key) => key !== 'payments')
    .map((key) => `${key} ${((Number(rowsAfter[key]) - Number(rowsBefore[key])) / made).toFixed(2)}`)
    .join(', ');
  const seconds = (end.at - start.at) / 1000;
  const walBytes = Number(
    (await db.query('SELECT pg_wal_lsn_diff($1, $2) AS bytes', [end.wal, start.wal])).rows[0].bytes,
  );
  const payments = end.paid - start.paid;
  const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND;
  const postgres = end.server.replay - start.server.replay + end.server.server - start.server.server;
  const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100);
  const busy = end.machine.busy - start.machine.busy;
  const pgbenchTicks = end.pgbench - start.pgbench;
  const otherClients = end.server.otherClients - start.server.otherClients;
  return {
    replay: name,
    clients,
    payments_per_second: Math.round(payments / seconds),
    postgres_cpu_ms_per_payment: Number((ms(postgres) / payments).toFixed(2)),
    postgres_cpu_percent: cores(postgres),
    wal_kb_per_payment: Number((walBytes / 1024 / payments).toFixed(1)),
    of_which_server_processes_percent: cores(end.server.server - start.server.server),
    pgbench_cpu_percent: cores(pgbenchTicks),
    other_cpu_percent: cores(busy - postgres - pgbenchTicks), // other clients' backends are counted here
    other_clients_backends_percent: cores(otherClients),
    busiest_others: busiestOthers(start.all, end.all, seconds),
    rows_per_payment: perPayment,
    // Per payment, per table: rows inserted / updated (of which HOT), from pg_stat_user_tables.
    table_writes: writesAfter
      .map((after) => {
        const before = writesBefore.find((row) => row.relname === after.relname);
        const per = (key: 'ins' | 'upd' | 'hot') =>
          ((Number(after[key]) - Number(before?.[key] ?? 0)) / made).toFixed(2);
        return { table: after.relname, ins: per('ins'), upd: per('upd'), hot: per('hot') };
      })
      .filter((row) => row.ins !== '0.00' || row.upd !== '0.00')
      .map((row) => `${row.table} +${row.ins} ~${row.upd} (HOT ${row.hot})`)
      .join(', '),
    ...(quiet === undefined ? {} : { started_quiet: quiet }),
    tps_line: /tps = [\d.]+ \(without initial connection time\)/.exec(output)?.[0] ?? '',
  };
}

const admin = new pg.Client({ connectionString: ADMIN_URL });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
await admin.query(`CREATE DATABASE ${DATABASE}`);
const databaseUrl = new URL(ADMIN_URL);
databaseUrl.pathname = `/${DATABASE}`;
const db = new pg.Client({ connectionString: databaseUrl.toString() });
/** The gateway too talks to the server through its unix socket when there is one (as with the embedded server). */
// One KASSA_DATA_DIR (the master key that sealed the database's keys) for every gateway this run starts.
const gatewayDataDir = await mkdtemp(path.join(os.tmpdir(), 'kassa-floor-'));
function gatewayUrl() {
  const url = new URL(databaseUrl);
  if (existsSync(`${SOCKET_DIR}/.s.PGSQL.${url.port || 5432}`)) url.searchParams.set('host', SOCKET_DIR);
  return url.toString();
}
try {
  const session = await openGatewaySession(gatewayUrl(), gatewayDataDir);
  try {
    await session.pay();
  } finally {
    await session.close(); // its worker must not take part in the replays
  }
  await db.connect();
  const vars = await payloads(db);
  const results = [];
  for (let round = 0; round < REPEAT; round += 1)
    for (const clients of CLIENTS)
      for (const name of SCRIPTS) {
        if (name === 'gateway' && clients !== CLIENTS[0]) continue; // its own 50 connections: once per round
        const result = await replay(db, databaseUrl.toString(), vars, name, clients);
        console.log(JSON.stringify(result));
        results.push(result);
      }
  console.table(
    results.map(
      ({ tps_line: _t, rows_per_payment: _r, busiest_others: _b, table_writes: _w, ...rest }) => rest,
    ),
  );
  if (REPEAT > 1) {
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const medians = [];
    for (const clients of CLIENTS)
      for (const name of SCRIPTS) {
        const runs = results.filter((r) => r.replay === name && r.clients === clients);
        if (runs.length === 0) continue;
        medians.push({
          replay: name,
          clients,
          payments_per_second: median(runs.map((r) => r.payments_per_second)),
          postgres_cpu_ms_per_payment: median(runs.map((r) => r.postgres_cpu_ms_per_payment)),
          wal_kb_per_payment: median(runs.map((r) => r.wal_kb_per_payment)),
          other_cpu_percent: runs.map((r) => r.other_cpu_percent).join('/'),
        });
      }
    console.log(`medians of ${REPEAT} rounds:`);
    console.table(medians);
  }
} finally {
  await rm(gatewayDataDir, { recursive: true, force: true });
  await db.end().catch(() => {});
  if (!process.env.FLOOR_KEEP_DATABASE) await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.end();
}
