import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.ts';
import type { Database } from './client.ts';

/**
 * Forward-only migrations: `src/db/migrations/NNNN_<kebab>.sql`, applied in file-name order, each in its
 * own transaction, recorded in `schema_migrations` with the sha256 of the file. An advisory lock makes
 * concurrent starters (several gateway processes on one server) wait for each other instead of racing.
 *
 * - A file whose content no longer matches the checksum recorded when it was applied stops everything,
 *   naming the file: the database was built from other SQL than the repository says (docs/CODE_STYLE.md,
 *   rule 14: migrations are never edited once merged). Rows applied before checksums existed get theirs
 *   recorded on the first run that can write (`kassa migrate`, or a start with auto-migration).
 * - A file whose first lines include `-- kassa:no-transaction` runs outside a transaction, one statement at
 *   a time (`CREATE INDEX CONCURRENTLY` refuses to run in one). Its statements end with `;` at the end of a
 *   line; each must be safe to run again (`… IF NOT EXISTS`, `DROP INDEX CONCURRENTLY IF EXISTS` first),
 *   because a failure half-way leaves the earlier ones applied and the file unrecorded.
 * - `checkMigrations` is what an app without DDL rights runs (KASSA_AUTO_MIGRATE=false): it reads, and
 *   refuses to start while anything is pending or edited (docs/operations.md, "Upgrades").
 */

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const MIGRATION_LOCK_ID = 7_216_001; // arbitrary constant shared by every Kassa process

/** PostgreSQL 15 is the oldest server Kassa is tested on (CI runs 15 and 17); older ones are refused. */
export const MINIMUM_SERVER_VERSION_NUM = 150_000;
export const MINIMUM_SERVER_VERSION = '15';

export type MigrationResult = { applied: string[]; alreadyApplied: number };
export type MigrationOptions = { dir?: string };

export type MigrationFile = {
  version: string;
  file: string;
  sql: string;
  checksum: string;
  transactional: boolean;
};

export type MigrationState = {
  version: string;
  applied: boolean;
  appliedAt: Date | null;
  /** The file differs from what was applied (checksum recorded then ≠ the file's now). */
  edited: boolean;
  /** Applied before checksums were recorded; `kassa migrate` records it. */
  checksumMissing: boolean;
  /** Recorded in the database, but no file has this version (a newer release applied it, or it was renamed). */
  unknown?: boolean;
};

const MIGRATION_FILE_PATTERN = /^\d{4}_[a-z0-9-]+\.sql$/;
const NO_TRANSACTION_HEADER = /^--\s*kassa:no-transaction\s*$/m;

/**
 * The schema is not what this release needs (pending, edited, server too old): the operator fixes it, so the
 * CLI prints it as one line like a configuration error, without a stack trace.
 */
export class MigrationError extends ConfigError {}

export async function listMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql'));
  // A misnamed file would otherwise be skipped silently and its tables never created.
  const misnamed = files.filter((file) => !MIGRATION_FILE_PATTERN.test(file));
  if (misnamed.length)
    throw new Error(`Migration files must be named NNNN_kebab-case.sql: ${misnamed.join(', ')}`);
  return files.sort();
}

export async function readMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = await listMigrations(dir);
  return Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(path.join(dir, file));
      const sql = bytes.toString('utf8');
      // The header is looked for in the leading comment block only, so a statement mentioning it does not count.
      const leadingComments = sql
        .split('\n')
        .filter((line, index, lines) =>
          lines.slice(0, index + 1).every((l) => l.trim() === '' || l.trim().startsWith('--')),
        );
      return {
        version: file.replace(/\.sql$/, ''),
        file,
        sql,
        checksum: createHash('sha256').update(bytes).digest('hex'),
        transactional: !NO_TRANSACTION_HEADER.test(leadingComments.join('\n')),
      };
    }),
  );
}

/** Refuses a server older than the minimum, with the version it found. */
export function assertSupportedServerVersion(
  serverVersionNum: number,
  serverVersion = String(serverVersionNum),
) {
  if (serverVersionNum < MINIMUM_SERVER_VERSION_NUM) {
    throw new MigrationError(
      `PostgreSQL ${serverVersion} is too old: Kassa needs PostgreSQL ${MINIMUM_SERVER_VERSION} or newer ` +
        '(see docs/operations.md, "Database").',
    );
  }
}

type Queryable = { query: Database['pool']['query'] };

async function checkServerVersion(client: Queryable) {
  const { rows } = await client.query<{ num: string; version: string }>(
    "SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version",
  );
  assertSupportedServerVersion(Number(rows[0]!.num), rows[0]!.version);
}

type Recorded = Map<string, { checksum: string | null; appliedAt: Date }>;

/** What schema_migrations holds; `hasChecksums` is false before the checksum column was added. */
async function readRecorded(
  client: Queryable,
): Promise<{ exists: boolean; hasChecksums: boolean; rows: Recorded }> {
  const { rows: shape } = await client.query<{ exists: boolean; has_checksums: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS exists,
            EXISTS (SELECT 1 FROM information_schema.columns
                     WHERE table_name = 'schema_migrations' AND column_name = 'checksum'
                       AND table_schema = current_schema()) AS has_checksums`,
  );
  const { exists, has_checksums: hasChecksums } = shape[0]!;
  const recorded: Recorded = new Map();
  if (!exists) return { exists, hasChecksums, rows: recorded };
  const { rows } = await client.query<{ version: string; checksum: string | null; applied_at: Date }>(
    `SELECT version, ${hasChecksums ? 'checksum' : 'NULL::text AS checksum'}, applied_at FROM schema_migrations`,
  );
  for (const row of rows) recorded.set(row.version, { checksum: row.checksum, appliedAt: row.applied_at });
  return { exists, hasChecksums, rows: recorded };
}

function describeStates(files: MigrationFile[], recorded: Recorded): MigrationState[] {
  const states: MigrationState[] = files.map((migration) => {
    const row = recorded.get(migration.version);
    return {
      version: migration.version,
      applied: row !== undefined,
      appliedAt: row?.appliedAt ?? null,
      edited: row !== undefined && row.checksum !== null && row.checksum !== migration.checksum,
      checksumMissing: row !== undefined && row.checksum === null,
    };
  });
  const known = new Set(files.map((migration) => migration.version));
  for (const [version, row] of recorded) {
    if (!known.has(version)) {
      states.push({
        version,
        applied: true,
        appliedAt: row.appliedAt,
        edited: false,
        checksumMissing: false,
        unknown: true,
      });
    }
  }
  return states.sort((a, b) => a.version.localeCompare(b.version));
}

function editedError(edited: MigrationState[]) {
  const names = edited.map((state) => `${state.version}.sql`).join(', ');
  return new MigrationError(
    `Migration ${names} was edited after it was applied (its sha256 no longer matches the one recorded in ` +
      'schema_migrations). Applied migrations are never edited: restore the file and put the change in a new ' +
      'migration (docs/CODE_STYLE.md, rule 14).',
  );
}

/** Every migration file and recorded version, and whether it is applied or edited: `kassa migrate status`. */
export async function migrationStatus(
  db: Database,
  options: MigrationOptions = {},
): Promise<MigrationState[]> {
  const files = await readMigrations(options.dir);
  const { rows } = await readRecorded(db.pool);
  return describeStates(files, rows);
}

/**
 * For an app that does not migrate (KASSA_AUTO_MIGRATE=false): the server is new enough and every migration
 * is applied unedited, else a MigrationError that says what to run. Reads only; creates nothing.
 */
export async function checkMigrations(
  db: Database,
  options: MigrationOptions = {},
): Promise<MigrationResult> {
  await checkServerVersion(db.pool);
  const files = await readMigrations(options.dir);
  const recorded = await readRecorded(db.pool);
  const states = describeStates(files, recorded.rows);
  const edited = states.filter((state) => state.edited);
  if (edited.length) throw editedError(edited);
  const pending = states.filter((state) => !state.applied);
  if (pending.length) {
    throw new MigrationError(
      `The database schema is not up to date: ${pending.length} migration(s) pending ` +
        `(${pending.map((state) => state.version).join(', ')}). KASSA_AUTO_MIGRATE=false, so this process ` +
        'changes no schema: run `kassa migrate` with a DATABASE_URL whose role may change it, then start again.',
    );
  }
  if (!recorded.hasChecksums || states.some((state) => state.checksumMissing)) {
    throw new MigrationError(
      'The applied migrations have no checksums recorded yet: run `kassa migrate` once with a DATABASE_URL ' +
        'whose role may change the schema, then start again.',
    );
  }
  return { applied: [], alreadyApplied: recorded.rows.size };
}

export async function migrate(db: Database, options: MigrationOptions = {}): Promise<MigrationResult> {
  const client = await db.pool.connect();
  try {
    await checkServerVersion(client);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const files = await readMigrations(options.dir);
    let recorded = await readRecorded(client);
    // DDL only when needed, so a start with nothing to do needs no rights beyond reading.
    if (!recorded.exists) {
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           version text PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now(),
           checksum text
         )`,
      );
    } else if (!recorded.hasChecksums) {
      await client.query('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text');
    }
    recorded = await readRecorded(client);
    const states = describeStates(files, recorded.rows);
    const edited = states.filter((state) => state.edited);
    if (edited.length) throw editedError(edited);

    // Applied before checksums existed: record what the files say now (the first run after the upgrade).
    for (const migration of files) {
      if (recorded.rows.get(migration.version)?.checksum === null) {
        await client.query(
          'UPDATE schema_migrations SET checksum = $2 WHERE version = $1 AND checksum IS NULL',
          [migration.version, migration.checksum],
        );
      }
    }

    const applied: string[] = [];
    for (const migration of files) {
      if (recorded.rows.has(migration.version)) continue;
      try {
        if (migration.transactional) {
          await client.query('BEGIN');
          try {
            await client.query(migration.sql);
            await recordApplied(client, migration);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
        } else {
          // A multi-statement query string is one implicit transaction, which CONCURRENTLY refuses: one at a time.
          for (const statement of splitStatements(migration.sql)) await client.query(statement);
          await recordApplied(client, migration);
        }
      } catch (error) {
        throw new MigrationError(`Migration ${migration.file} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      applied.push(migration.version);
    }
    return { applied, alreadyApplied: recorded.rows.size };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    client.release();
  }
}

async function recordApplied(client: Queryable, migration: MigrationFile) {
  await client.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [
    migration.version,
    migration.checksum,
  ]);
}

/** The statements of a no-transaction file: each ends with `;` at the end of a line (comments dropped). */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  for (const line of sql.split('\n')) {
    if (line.trim().startsWith('--')) continue;
    current.push(line);
    if (/;\s*$/.test(line)) {
      statements.push(current.join('\n').trim());
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest) statements.push(rest);
  return statements.filter((statement) => statement !== ';' && statement !== '');
}
