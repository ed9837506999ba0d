import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOTP, Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, parseMasterKey } from '../../../src/lib/keyring.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { acceptCode, issueRecoveryCodes, pendingEnrolment } from '../../../src/modules/users/two-factor.ts';
import { createUser } from '../../../src/modules/users/users.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

/** `kassa user reset-2fa`: the recovery for a person who lost their authenticator and recovery codes. */

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const masterKey = randomBytes(32).toString('base64');

function kassa(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
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

describe('kassa user reset-2fa', () => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 2 });
    dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-reset-2fa-'));
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

  it('switches two-factor off, drops the recovery codes, signs the person out and audits it', async () => {
    const db = database.db;
    const now = new Date();
    const { merchant } = await db.transaction((tx) =>
      createMerchantWithCredentials(tx, { name: 'Reset Shop', livemode: false }),
    );
    const user = await createUser(db, {
      merchantId: merchant.id,
      email: 'lost-phone@cli.test',
      role: 'owner',
      password: 'a long enough password',
      now,
    });
    const keyring = createKeyring(parseMasterKey(masterKey));
    const enrolment = (await pendingEnrolment(db, keyring, user))!;
    const code = new TOTP({ secret: Secret.fromBase32(enrolment.secret) }).generate({
      timestamp: now.getTime(),
    });
    expect(await acceptCode(db, keyring, user.id, code, now, { enrolling: true })).toBe(true);
    await issueRecoveryCodes(db, user.id, now);
    await db.query(
      `INSERT INTO dashboard_sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)`,
      [randomBytes(32), user.id, now],
    );

    const help = await kassa(['user', 'reset-2fa', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: kassa user reset-2fa');
    const neither = await kassa(['user', 'reset-2fa'], env);
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toContain('--email or --user');
    const unknown = await kassa(['user', 'reset-2fa', '--email', 'nobody@cli.test'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no dashboard user');

    const reset = await kassa(['user', 'reset-2fa', '--email', 'LOST-PHONE@cli.test', '--json'], env);
    expect(reset.code, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({
      id: user.id,
      two_factor_enabled: false,
      was_enabled: true,
    });

    const { rows } = await db.query<{ totp_secret_sealed: string | null; totp_enabled_at: Date | null }>(
      'SELECT totp_secret_sealed, totp_enabled_at FROM dashboard_users WHERE id = $1',
      [user.id],
    );
    expect(rows[0]).toEqual({ totp_secret_sealed: null, totp_enabled_at: null });
    const codes = await db.query('SELECT 1 FROM dashboard_recovery_codes WHERE user_id = $1', [user.id]);
    expect(codes.rows).toHaveLength(0);
    const sessions = await db.query(
      'SELECT 1 FROM dashboard_sessions WHERE user_id = $1 AND revoked_at IS NULL',
      [user.id],
    );
    expect(sessions.rows).toHaveLength(0);
    const audit = await db.query<{ actor_type: string; actor_id: string }>(
      "SELECT actor_type, actor_id FROM audit_log WHERE action = 'user.two_factor_reset' AND object_id = $1",
      [user.id],
    );
    expect(audit.rows).toEqual([{ actor_type: 'system', actor_id: 'cli' }]);

    const byId = await kassa(['user', 'reset-2fa', '--user', user.id], env);
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stdout).toContain('(it was not on)');
  }, 60_000);
});
