import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../../fixtures/gateway-process.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';

/**
 * The restore drill of docs/operations.md ("Backups"), on the embedded database and the real `kassa` command:
 * create data (a merchant, a checkout), back up while the gateway runs, change and then destroy the data,
 * restore, start, and the data is there as it was at the backup — the checkout made after it is not, the
 * merchant's credentials work (its secrets decrypt with the master key that came with the backup). Then the
 * same with the gateway stopped (an offline copy). A restore over a running gateway's data folder is refused.
 */

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

type Run = { code: number | string; stdout: string; stderr: string };
function kassa(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KASSA_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KASSA_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}
const seen = (run: Run) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

let scratch: string;
let dataDir: string;
let env: Record<string, string>;
let gateway: GatewayProcess | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'kassa-backup-drill-'));
  dataDir = path.join(scratch, 'data');
  // The embedded database, whatever the suite runs on; no configured master key (the generated one is used).
  env = { KASSA_DATA_DIR: dataDir, DATABASE_URL: '', KASSA_MASTER_KEY: '', KASSA_DEMO: 'false' };
});

afterAll(async () => {
  gateway?.child.kill('SIGKILL');
  await gateway?.exited;
  // A gateway killed above leaves its embedded server; starting and stopping cleanly is not needed: kill it.
  const pid = await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').then(
    (text) => Number.parseInt(text.split('\n')[0] ?? '', 10),
    () => undefined,
  );
  if (pid) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      /* already gone */
    }
  }
  await rm(scratch, { recursive: true, force: true });
});

async function stopGateway() {
  gateway!.child.kill('SIGTERM');
  expect(await gateway!.exited).toBe(0);
  gateway = undefined;
}

async function api(method: string, url: string, apiKey: string, body?: unknown) {
  const response = await fetch(`${gateway!.baseUrl}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function accessTokenStatus(clientId: string, clientSecret: string) {
  const response = await fetch(`${gateway!.baseUrl}/v1/oauth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    }),
  });
  return response.status;
}

it('backs up online, refuses a restore over the running gateway, restores after destruction, and offline too', async () => {
  gateway = await startGatewayProcess(env);
  const created = await kassa(['merchant', 'create', '--name', 'Restore Drill', '--json'], env);
  expect(created.code, seen(created)).toBe(0);
  const merchant = JSON.parse(created.stdout) as {
    api_key: string;
    client_id: string;
    client_secret: string;
  };
  const before = await api(
    'POST',
    '/v1/checkouts',
    merchant.api_key,
    checkoutRequest(simpleOrder('EUR', 'DE', 4_200, 'kept')),
  );
  expect(before.status, JSON.stringify(before.body)).toBe(201);
  const keptId = before.body.checkout_id as string;
  expect(await accessTokenStatus(merchant.client_id, merchant.client_secret)).toBe(200);

  // Online backup, while the gateway serves.
  const onlineDir = path.join(scratch, 'backup-online');
  const online = await kassa(['backup', '--to', onlineDir], env);
  expect(online.code, seen(online)).toBe(0);
  expect(online.stdout).toMatch(/backed up the embedded database \(online, WAL /);
  expect(online.stdout).toContain('includes the development master key');
  const manifest = JSON.parse(await readFile(path.join(onlineDir, 'kassa-backup.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  expect(manifest).toMatchObject({ method: 'online', includesMasterKey: true });
  expect(await readFile(path.join(onlineDir, 'pg', 'backup_label'), 'utf8')).toMatch(/START WAL LOCATION/);

  // Changes after the backup, which the restore must undo.
  const after = await api(
    'POST',
    '/v1/checkouts',
    merchant.api_key,
    checkoutRequest(simpleOrder('EUR', 'DE', 999, 'lost')),
  );
  expect(after.status).toBe(201);
  const lostId = after.body.checkout_id as string;

  const refused = await kassa(['restore', '--from', onlineDir], env);
  expect(refused.code, seen(refused)).toBe(1);
  expect(refused.stderr).toMatch(
    /kassa: the data folder .* is in use by a running Kassa process \(pid \d+\): stop it/,
  );
  expect(refused.stderr).not.toMatch(/\n\s+at /);

  // Destroy: the gateway stops, its database and master key are gone.
  await stopGateway();
  await rm(path.join(dataDir, 'pg'), { recursive: true, force: true });
  await rm(path.join(dataDir, 'master.key'), { force: true });

  const restored = await kassa(['restore', '--from', onlineDir], env);
  expect(restored.code, seen(restored)).toBe(0);
  expect(existsSync(path.join(dataDir, 'master.key'))).toBe(true);

  gateway = await startGatewayProcess(env);
  const kept = await api('GET', `/v1/checkouts/${keptId}`, merchant.api_key);
  expect(kept.status, JSON.stringify(kept.body)).toBe(200);
  expect(kept.body).toMatchObject({ checkout_id: keptId });
  expect(JSON.stringify(kept.body)).toContain('"merchant_order_id":"kept"');
  expect((await api('GET', `/v1/checkouts/${lostId}`, merchant.api_key)).status).toBe(404);
  expect(await accessTokenStatus(merchant.client_id, merchant.client_secret)).toBe(200);

  // Offline: with the gateway stopped, a plain copy; then a change, a restore over it, and a start.
  await stopGateway();
  const offlineDir = path.join(scratch, 'backup-offline');
  const offline = await kassa(['backup', '--to', offlineDir], env);
  expect(offline.code, seen(offline)).toBe(0);
  expect(offline.stdout).toMatch(/\(offline\)/);
  gateway = await startGatewayProcess(env);
  const later = await api(
    'POST',
    '/v1/checkouts',
    merchant.api_key,
    checkoutRequest(simpleOrder('EUR', 'DE', 5, 'later')),
  );
  expect(later.status).toBe(201);
  await stopGateway();
  const restoredOffline = await kassa(['restore', '--from', offlineDir], env);
  expect(restoredOffline.code, seen(restoredOffline)).toBe(0);
  expect(restoredOffline.stdout).toMatch(/the previous pg is kept in .*pg\.before-restore-/);
  gateway = await startGatewayProcess(env);
  expect((await api('GET', `/v1/checkouts/${keptId}`, merchant.api_key)).status).toBe(200);
  expect(
    (await api('GET', `/v1/checkouts/${later.body.checkout_id as string}`, merchant.api_key)).status,
  ).toBe(404);
  await stopGateway();
}, 240_000);

it('refuses a backup into a non-empty folder, and a restore from something that is not a backup', async () => {
  const notEmpty = await kassa(['backup', '--to', scratch], env);
  expect(notEmpty.code, seen(notEmpty)).toBe(1);
  expect(notEmpty.stderr).toMatch(/is not empty: back up into a new or empty folder/);
  const notBackup = await kassa(['restore', '--from', path.join(scratch, 'data')], env);
  expect(notBackup.code, seen(notBackup)).toBe(1);
  expect(notBackup.stderr).toMatch(/is not a Kassa backup/);
  const external = await kassa(['backup'], { ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
  expect(external.code).toBe(1);
  expect(external.stderr).toMatch(
    /works on the embedded database; with DATABASE_URL use the server's own tools/,
  );
});
