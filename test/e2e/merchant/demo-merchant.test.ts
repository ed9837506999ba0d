import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoMerchant } from '../../../src/modules/merchants/demo-merchant.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

/**
 * The demo merchant's secrets are shown once, so the file that keeps them for the banner must be written: a
 * gateway on an external database (DATABASE_URL) has not created its data folder when the merchant is made.
 */
describe('ensureDemoMerchant', () => {
  let t: TestDatabase;
  let parent: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    parent = await mkdtemp(path.join(os.tmpdir(), 'kassa-demo-'));
  });
  afterAll(async () => {
    await t.close();
    await rm(parent, { recursive: true, force: true });
  });

  it('creates a missing data folder (0700) and keeps the credentials there; a second start reads them back', async () => {
    const dataDir = path.join(parent, 'not', 'yet', 'there');
    expect(existsSync(dataDir)).toBe(false);

    const first = await ensureDemoMerchant(t.db, dataDir);
    expect(first.created).toBe(true);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const saved = JSON.parse(await readFile(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as {
      merchantId: string;
    };
    expect(saved.merchantId).toBe(first.merchantId);

    const second = await ensureDemoMerchant(t.db, dataDir);
    expect(second).toMatchObject({ created: false, merchantId: first.merchantId });
    expect(second.credentials).toEqual(first.credentials);
  });
});
