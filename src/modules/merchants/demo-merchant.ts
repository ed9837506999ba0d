import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../../db/client.ts';
import { createMerchantWithCredentials } from './merchant.service.ts';
import type { IssuedCredentials } from './merchant.types.ts';

/**
 * The test-mode demo merchant created on first start so a newcomer can try the API at once. Its secrets
 * are shown once like any other, so they are also kept in `<dataDir>/demo-credentials.json` (mode 0600)
 * for the start-up banner; the database records which merchant is the demo one, so several processes on
 * one server create it once.
 */

const DEMO_SETTING_KEY = 'demo_merchant_id';
export const DEMO_MERCHANT_NAME = 'Demo Shop';

export type DemoMerchant = {
  merchantId: string;
  credentials: IssuedCredentials | undefined;
  created: boolean;
};

export async function ensureDemoMerchant(db: Database, dataDir: string): Promise<DemoMerchant> {
  const file = path.join(dataDir, 'demo-credentials.json');
  // The folder exists before the merchant does: its secrets are shown once, and a write that failed after the
  // commit (a gateway on an external DATABASE_URL has created no data folder) would lose them for good.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const created = await db.transaction(async (tx) => {
    // Serialise concurrent first starts on the settings row.
    await tx.query('SELECT pg_advisory_xact_lock(7216002)');
    const existing = await tx.query<{ value: string }>('SELECT value FROM instance_settings WHERE key = $1', [
      DEMO_SETTING_KEY,
    ]);
    if (existing.rows[0]) return undefined;
    // The demo shows every integration, the Processor API with test cards included.
    const result = await createMerchantWithCredentials(tx, {
      name: DEMO_MERCHANT_NAME,
      livemode: false,
      cardDataPermitted: true,
    });
    await tx.query('INSERT INTO instance_settings (key, value) VALUES ($1, $2)', [
      DEMO_SETTING_KEY,
      JSON.stringify(result.merchant.id),
    ]);
    return result;
  });
  if (created) {
    await writeFile(file, `${JSON.stringify(created.credentials, null, 2)}\n`, { mode: 0o600 });
    return { merchantId: created.merchant.id, credentials: created.credentials, created: true };
  }
  const { rows } = await db.query<{ value: string }>('SELECT value FROM instance_settings WHERE key = $1', [
    DEMO_SETTING_KEY,
  ]);
  const merchantId = rows[0]!.value;
  const saved = existsSync(file)
    ? (JSON.parse(await readFile(file, 'utf8')) as IssuedCredentials)
    : undefined;
  return { merchantId, credentials: saved?.merchantId === merchantId ? saved : undefined, created: false };
}
