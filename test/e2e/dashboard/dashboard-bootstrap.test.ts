import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { findFreePort } from '../../../src/db/embedded.ts';
import { serve } from '../../../src/main.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

/**
 * How the first people get in: the development gateway's banner prints a demo dashboard login that works, and
 * `kassa user create` makes a user (printing a generated password when none is given).
 */

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const masterKey = randomBytes(32).toString('base64');

function kassa(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Signs in through the real form over HTTP; answers whether the home page then shows. */
async function signInWorks(baseUrl: string, email: string, password: string): Promise<boolean> {
  const form = await fetch(`${baseUrl}/dashboard/sign-in`);
  const signInCookie = form.headers.getSetCookie()[0]!.split(';')[0]!;
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(await form.text())![1]!;
  const posted = await fetch(`${baseUrl}/dashboard/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: signInCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf_token: csrf, email, password }),
  });
  if (posted.status !== 303) return false;
  const session = posted.headers.getSetCookie().find((cookie) => cookie.startsWith('kassa_session='))!;
  const home = await fetch(`${baseUrl}/dashboard`, { headers: { cookie: session.split(';')[0]! } });
  return home.status === 200 && (await home.text()).includes('<h1 class="dash-title">Home</h1>');
}

describe('dashboard bootstrap', () => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 2 });
    dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-dashboard-'));
    env = {
      KASSA_ENV: 'test',
      DATABASE_URL: database.connectionString,
      KASSA_DATA_DIR: dataDir,
      KASSA_MASTER_KEY: masterKey,
    };
  });
  afterAll(async () => {
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints a working demo dashboard login beside the demo merchant’s keys', async () => {
    const port = await findFreePort();
    const config = loadConfig({
      ...env,
      KASSA_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      KASSA_WORKERS: 'false',
      KASSA_LOG_LEVEL: 'warn',
    });
    const start = async () => {
      let output = '';
      const stream = new Writable({
        write(chunk, _encoding, callback) {
          output += String(chunk);
          callback();
        },
      });
      const gateway = await serve(config, { stream });
      return { gateway, output: () => output };
    };
    const first = await start();
    try {
      const line = /Dashboard:\s+(\S+)\/dashboard\s+Email: (\S+)\s+Password: (\S+)/.exec(first.output());
      expect(line, first.output()).not.toBeNull();
      expect(line![2]).toBe('demo@kassa.test');
      expect(await signInWorks(first.gateway.url, line![2]!, line![3]!)).toBe(true);
      expect(await signInWorks(first.gateway.url, line![2]!, `${line![3]!}x`)).toBe(false);
    } finally {
      await first.gateway.close();
    }
  }, 60_000);

  it('`kassa user create` makes a user, generating and printing a password when none is given', async () => {
    const { merchant } = await database.db.transaction((tx) =>
      createMerchantWithCredentials(tx, { name: 'CLI Shop', livemode: false }),
    );
    const generated = await kassa(
      ['user', 'create', '--merchant', merchant.id, '--email', 'ops@cli.test', '--role', 'support', '--json'],
      env,
    );
    expect(generated.code, generated.stderr).toBe(0);
    const created = JSON.parse(generated.stdout) as { id: string; role: string; password: string };
    expect(created).toMatchObject({ object: 'dashboard_user', email: 'ops@cli.test', role: 'support' });
    expect(created.password).toMatch(/^[A-Za-z0-9]{20}$/);

    const given = await kassa(
      [
        'user',
        'create',
        '--merchant',
        merchant.id,
        '--email',
        'dev@cli.test',
        '--role',
        'developer',
        '--password',
        'twelve chars!',
      ],
      env,
    );
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout).not.toContain('twelve chars!');

    const short = await kassa(
      [
        'user',
        'create',
        '--merchant',
        merchant.id,
        '--email',
        'x@cli.test',
        '--role',
        'viewer',
        '--password',
        'short',
      ],
      env,
    );
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('at least 12 characters');
    const badRole = await kassa(
      ['user', 'create', '--merchant', merchant.id, '--email', 'y@cli.test', '--role', 'admin'],
      env,
    );
    expect(badRole.code).toBe(2);
    const duplicate = await kassa(
      ['user', 'create', '--merchant', merchant.id, '--email', 'OPS@cli.test', '--role', 'viewer'],
      env,
    );
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('already exists');

    const { rows } = await database.pool.query(
      'SELECT email, role, password_hash FROM dashboard_users WHERE merchant_id = $1 ORDER BY email',
      [merchant.id],
    );
    expect(rows.map((row) => [row.email, row.role])).toEqual([
      ['dev@cli.test', 'developer'],
      ['ops@cli.test', 'support'],
    ]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
  }, 180_000); // five runs of the command, each opening the database
});
