import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database } from './client.ts';

/**
 * Forward-only migrations: `src/db/migrations/NNNN_<kebab>.sql`, applied in file-name order, each in its
 * own transaction, recorded in `schema_migrations`. An advisory lock makes concurrent starters (several
 * gateway processes on one server) wait for each other instead of racing.
 */

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const MIGRATION_LOCK_ID = 7_216_001; // arbitrary constant shared by every Kassa process

export type MigrationResult = { applied: string[]; alreadyApplied: number };

const MIGRATION_FILE_PATTERN = /^\d{4}_[a-z0-9-]+\.sql$/;

export async function listMigrations(): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => file.endsWith('.sql'));
  // A misnamed file would otherwise be skipped silently and its tables never created.
  const misnamed = files.filter((file) => !MIGRATION_FILE_PATTERN.test(file));
  if (misnamed.length)
    throw new Error(`Migration files must be named NNNN_kebab-case.sql: ${misnamed.join(', ')}`);
  return files.sort();
}

export async function migrate(db: Database): Promise<MigrationResult> {
  const client = await db.pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = new Set(
      (await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const file of await listMigrations()) {
      const version = file.replace(/\.sql$/, '');
      if (done.has(version)) continue;
      const sql = await readFile(`${MIGRATIONS_DIR}${file}`, 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(version);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    client.release();
  }
}
