import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const run = promisify(execFile);

describe('kassa api-keys list|create|roll|revoke, credentials revoke and signing-keys rotate', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let dataDir: string;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'kassa-api-keys-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await t.close();
  });

  function kassa(...args: string[]) {
    return run(process.execPath, [KASSA_BIN, ...args], {
      timeout: 60_000,
      env: {
        ...process.env,
        DATABASE_URL: t.database.connectionString,
        KASSA_ENV: 'test',
        KASSA_MASTER_KEY: t.masterKey,
        KASSA_DATA_DIR: dataDir,
        KASSA_LOG_LEVEL: 'warn',
      },
    });
  }

  const status = async (key: string) =>
    (await t.app.inject({ url: '/v1/orders', headers: { authorization: `Bearer ${key}` } })).statusCode;

  async function waitForRefusal(key: string) {
    const started = Date.now();
    while (Date.now() - started < 3000) {
      if ((await status(key)) === 401) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return undefined;
  }

  it('lists keys with their key_ ids, creates a restricted key, rolls and revokes by key or id', async () => {
    const listed = await kassa('api-keys', 'list', '--merchant', merchant.merchantId);
    expect(listed.stdout).toMatch(
      new RegExp(`^key_[0-9a-f]{44}  sk_test_…${merchant.apiKey.slice(-4)}  test  secret  active`, 'm'),
    );
    expect(listed.stdout).not.toContain(merchant.apiKey);

    const created = JSON.parse(
      (
        await kassa(
          'api-keys',
          'create',
          '--merchant',
          merchant.merchantId,
          '--type',
          'restricted',
          '--scopes',
          'orders:read',
          '--json',
        )
      ).stdout,
    );
    expect(created).toMatchObject({ type: 'restricted', scopes: ['orders:read'] });
    expect(created.secret).toMatch(/^rk_test_/);
    expect(await status(created.secret)).toBe(200);
    const { rows } = await t.database.db.query('SELECT key_sha256, key_hint FROM api_keys WHERE id = $1', [
      created.id,
    ]);
    expect(JSON.stringify(rows)).not.toContain(created.secret.slice(8));

    // Roll by the key itself, no overlap: the old key stops within 1 s, the new one works.
    await status(created.secret); // cached as valid in the app
    const rolled = JSON.parse(
      (await kassa('api-keys', 'roll', created.secret, '--expire-previous-in-seconds', '0', '--json')).stdout,
    );
    expect(rolled.secret).toMatch(/^rk_test_/);
    expect(await waitForRefusal(created.secret)).toBeLessThanOrEqual(1100);
    expect(await status(rolled.secret)).toBe(200);

    // Revoke by id, and through the old command name by the key itself (it used to fail for a key).
    const byId = await kassa('api-keys', 'revoke', rolled.id);
    expect(byId.stdout).toBe(`revoked ${rolled.id} (every gateway refuses it within 1 second)\n`);
    expect(await waitForRefusal(rolled.secret)).toBeLessThanOrEqual(1100);
    const alias = await kassa('credentials', 'revoke', merchant.apiKey);
    expect(alias.stdout).toMatch(/^revoked key_[0-9a-f]{44} \(every gateway refuses it within 1 second\)\n$/);
    expect(await waitForRefusal(merchant.apiKey)).toBeLessThanOrEqual(1100);
    await expect(kassa('api-keys', 'revoke', merchant.apiKey)).rejects.toMatchObject({ code: 1 });
    await expect(
      kassa(
        'api-keys',
        'create',
        '--merchant',
        merchant.merchantId,
        '--type',
        'restricted',
        '--scopes',
        'orders:write',
      ),
    ).rejects.toMatchObject({ code: 1 });
  }, 180_000);

  it('signing-keys rotate rotates the token signing key; keys rotate is its alias', async () => {
    for (const name of ['signing-keys', 'keys']) {
      const rotated = await kassa(name, 'rotate');
      expect(rotated.stdout).toMatch(/^new signing key \S+ is published in JWKS now/);
    }
    const { rows } = await t.database.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM signing_keys WHERE status = 'next'",
    );
    expect(rows[0]?.n).toBe(1);
  }, 120_000);
});
