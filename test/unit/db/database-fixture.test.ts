import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations } from '../../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

describe('test database fixture', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('gives a database with every migration applied', async () => {
    const { rows } = await database.db.query<{ version: string }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    const expected = (await listMigrations()).map((file) => file.replace(/\.sql$/, ''));
    expect(rows.map((row) => row.version)).toEqual(expected);
  });

  it('rolls a failed transaction back', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO merchants (id, name) VALUES ('mer_rollback', 'x')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rowCount } = await database.db.query(`SELECT 1 FROM merchants WHERE id = 'mer_rollback'`);
    expect(rowCount).toBe(0);
  });
});
