/**
 * `kassa master-key rotate` on a real database with two keys: every sealed column (the list is checked
 * against the schema) is re-sealed under the new KASSA_MASTER_KEY, opening old values with
 * KASSA_MASTER_KEY_PREVIOUS; a run stopped half-way continues on the next; a complete pass says the previous
 * key can go, and afterwards the new key alone opens everything, with the same plaintexts.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, type Keyring } from '../../../src/lib/keyring.ts';
import {
  countNeedingReseal,
  rotateMasterKey,
  SEALED_COLUMNS,
} from '../../../src/modules/master-key/master-key-rotation.ts';
import { pendingEnrolment } from '../../../src/modules/users/two-factor.ts';
import { addUser } from '../dashboard/dashboard-fixtures.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const run = promisify(execFile);

let t: TestApp;
let merchant: TestMerchant;
let dataDir: string;
const oldKey = () => Buffer.from(t.masterKey, 'base64');
const newKey = randomBytes(32);

beforeAll(async () => {
  t = await createTestApp();
  merchant = await t.createMerchant();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'kassa-master-key-'));
  // A dashboard person's two-factor secret (sealed at enrolment).
  const person = await addUser(t, merchant.merchantId, 'totp@rotate.test', 'owner');
  await pendingEnrolment(t.database.db, t.services.keyring, person);
  // Sealed values of every kind the API makes: webhook secrets (one rolled: current and previous), the
  // return-URL secret (rolled: current and previous), stored idempotent responses, the token-signing key.
  for (let i = 0; i < 3; i += 1) {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: { ...merchant.headers, 'idempotency-key': `endpoint-${i}` },
      payload: { url: `https://merchant.example/hooks/${i}`, enabled_events: ['*'] },
    });
    expect(created.statusCode).toBe(201);
    if (i === 0) {
      const rotated = await t.app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${(created.json() as { id: string }).id}/roll-secret`,
        headers: merchant.headers,
        payload: {},
      });
      expect(rotated.statusCode).toBe(200);
    }
  }
  expect(
    (await t.app.inject({ url: '/v1/merchant/signing-secret', headers: merchant.headers })).statusCode,
  ).toBe(200);
  const rolled = await t.app.inject({
    method: 'POST',
    url: '/v1/merchant/signing-secret/roll',
    headers: merchant.headers,
    payload: { expire_previous_in_seconds: 3600 },
  });
  expect(rolled.statusCode).toBe(200);
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await t.close();
});

/** Every sealed value, opened with `keyring`: `table.column key…` → plaintext (throws if one does not open). */
async function openAll(keyring: Keyring): Promise<Map<string, string>> {
  const opened = new Map<string, string>();
  for (const spec of SEALED_COLUMNS) {
    const { rows } = await t.database.db.query<Record<string, unknown>>(
      `SELECT ${spec.key.join(', ')}, ${spec.column} AS sealed FROM ${spec.table} WHERE ${spec.column} IS NOT NULL`,
    );
    for (const row of rows) {
      const stored = row.sealed as Buffer | string;
      const bytes = typeof stored === 'string' ? Buffer.from(stored, 'base64') : stored;
      const name = `${spec.table}.${spec.column} ${spec.key.map((key) => String(row[key])).join('/')}`;
      opened.set(name, keyring.decrypt(spec.purpose, bytes).toString('utf8'));
    }
  }
  return opened;
}

function kassa(env: Record<string, string>, ...args: string[]) {
  return run(process.execPath, [KASSA_BIN, ...args], {
    timeout: 60_000,
    env: {
      ...process.env,
      DATABASE_URL: t.database.connectionString,
      KASSA_ENV: 'test',
      KASSA_DATA_DIR: dataDir,
      KASSA_LOG_LEVEL: 'warn',
      ...env,
    },
  });
}

describe('kassa master-key rotate', () => {
  it('lists every sealed column of the schema', async () => {
    const { rows } = await t.database.db.query<{ name: string }>(
      `SELECT table_name || '.' || column_name AS name FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type = 'bytea'
          AND (column_name LIKE '%\\_encrypted' OR column_name LIKE '%\\_sealed')`,
    );
    const listed = new Set(SEALED_COLUMNS.map((spec) => `${spec.table}.${spec.column}`));
    expect(rows.map((row) => row.name).filter((name) => !listed.has(name))).toEqual([]);
  });

  it('re-seals everything under the new key, continues after an interruption, and is idempotent', async () => {
    const before = await openAll(createKeyring(oldKey()));
    const kinds = new Set([...before.keys()].map((name) => name.split(' ')[0]));
    for (const kind of [
      'signing_keys.private_jwk_encrypted',
      'merchant_signing_secrets.secret_encrypted',
      'merchant_signing_secrets.previous_secret_encrypted',
      'webhook_endpoints.secret_encrypted',
      'webhook_endpoints.previous_secret_encrypted',
      'idempotency_keys.response_body',
      'dashboard_users.totp_secret_sealed',
    ])
      expect(kinds).toContain(kind);
    const total = before.size;

    const rotating = createKeyring(newKey, [oldKey()]);
    expect(await countNeedingReseal(t.database.db, rotating)).toBe(total);

    // Stopped after the first batch (a crash, Ctrl-C): what was done stays done.
    let batches = 0;
    await expect(
      rotateMasterKey(t.database.db, rotating, {
        batchSize: 1,
        onProgress: () => {
          batches += 1;
          if (batches === 2) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    const left = await countNeedingReseal(t.database.db, rotating);
    expect(left).toBeLessThan(total);
    expect(left).toBeGreaterThan(0);

    // The command continues with what is left, and says the previous key can go.
    const env = {
      KASSA_MASTER_KEY: newKey.toString('base64'),
      KASSA_MASTER_KEY_PREVIOUS: t.masterKey,
    };
    const first = await kassa(env, 'master-key', 'rotate', '--batch-size', '2');
    expect(first.stdout).toContain(`re-sealed ${left} value(s)`);
    expect(first.stdout).toMatch(/KASSA_MASTER_KEY_PREVIOUS can be removed/);
    expect(await countNeedingReseal(t.database.db, rotating)).toBe(0);

    // The new key alone opens every value, with the same plaintexts; the old key alone opens none.
    expect(await openAll(createKeyring(newKey))).toEqual(before);
    await expect(openAll(createKeyring(oldKey()))).rejects.toThrow();

    // Again: nothing to do.
    const again = JSON.parse((await kassa(env, 'master-key', 'rotate', '--json')).stdout) as {
      resealed: number;
      complete: boolean;
    };
    expect(again).toMatchObject({ resealed: 0, complete: true });
  }, 180_000);

  it('says what is left when a value is under a key it was not given', async () => {
    const third = randomBytes(32);
    const report = await rotateMasterKey(t.database.db, createKeyring(third));
    expect(report.complete).toBe(false);
    expect(report.unreadable).toBeGreaterThan(0);
    expect(report.remaining).toBe(report.unreadable);
    await expect(
      kassa({ KASSA_MASTER_KEY: third.toString('base64') }, 'master-key', 'rotate'),
    ).rejects.toMatchObject({ code: 3, stdout: expect.stringMatching(/keep KASSA_MASTER_KEY_PREVIOUS/) });
    // Nothing was damaged: the key that sealed them still opens every value.
    expect((await openAll(createKeyring(newKey))).size).toBeGreaterThan(0);
  }, 120_000);
});
