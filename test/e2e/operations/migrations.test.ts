import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import {
  assertSupportedServerVersion,
  DEFAULT_MIGRATIONS_DIR,
  migrate,
  migrationStatus,
  splitStatements,
} from '../../../src/db/migrate.ts';
import { openDatabase } from '../../../src/db/open.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';
import { withDatabase } from '../../fixtures/global-setup.ts';

/**
 * The migration lifecycle as an operator meets it (docs/operations.md, "Upgrades"): checksums of applied files,
 * an edited file refused by name, `kassa migrate status`, an app role without DDL rights that creates nothing
 * (KASSA_AUTO_MIGRATE=false) and refuses to start while migrations are pending, and no-transaction files for
 * `CREATE INDEX CONCURRENTLY`. Real roles on the real server; scratch migration folders.
 */

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const logger = { info: () => {}, warn: () => {} };
const sha256 = (text: Buffer) => createHash('sha256').update(text).digest('hex');

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
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}

/** A copy of the repository's migrations plus `extra` files, in a scratch folder. */
async function scratchMigrations(extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kassa-migrations-'));
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  for (const [file, sql] of Object.entries(extra)) await writeFile(path.join(dir, file), sql);
  scratchDirs.push(dir);
  return dir;
}
const scratchDirs: string[] = [];

let database: TestDatabase;
const appRole = `kassa_app_${randomBytes(4).toString('hex')}`;
const appPassword = randomBytes(12).toString('hex');
let appUrl: string;
const admin = () => new pg.Client({ connectionString: database.connectionString });

beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 2 });
  // The app's role: it reads and writes rows, and may create nothing (no CREATE on the schema, owns nothing).
  const client = admin();
  await client.connect();
  try {
    await client.query(`CREATE ROLE "${appRole}" LOGIN PASSWORD '${appPassword}'`);
    const dbName = new URL(database.connectionString).pathname.slice(1);
    await client.query(`GRANT CONNECT ON DATABASE "${dbName}" TO "${appRole}"`);
    await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await client.query(`GRANT USAGE ON SCHEMA public TO "${appRole}"`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "${appRole}"`);
    await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "${appRole}"`);
  } finally {
    await client.end();
  }
  const url = new URL(database.connectionString);
  url.username = appRole;
  url.password = appPassword;
  appUrl = url.toString();
});

afterAll(async () => {
  await database?.close();
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  await client.query(`DROP ROLE IF EXISTS "${appRole}"`).catch(() => {});
  await client.end();
  for (const dir of scratchDirs) await rm(dir, { recursive: true, force: true });
});

describe('checksums', () => {
  it('records the sha256 of every applied file', async () => {
    const files = (await readdir(DEFAULT_MIGRATIONS_DIR)).sort();
    const { rows } = await database.pool.query<{ version: string; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    expect(rows.map((row) => `${row.version}.sql`)).toEqual(files);
    for (const row of rows) {
      expect(row.checksum).toBe(
        sha256(await readFile(path.join(DEFAULT_MIGRATIONS_DIR, `${row.version}.sql`))),
      );
    }
  });

  it('records the checksums of files applied before checksums existed, on the first run after the upgrade', async () => {
    const scratch = await createTestDatabase({ poolMax: 2 });
    try {
      await scratch.pool.query('ALTER TABLE schema_migrations DROP COLUMN checksum');
      // An app that may not change the schema refuses until `kassa migrate` has recorded them.
      await expect(
        openDatabase(
          loadConfig({ DATABASE_URL: scratch.connectionString, KASSA_AUTO_MIGRATE: 'false' }),
          logger,
        ),
      ).rejects.toThrow(/no checksums recorded yet: run `kassa migrate`/);
      const result = await migrate(scratch.db);
      expect(result.applied).toEqual([]);
      const { rows } = await scratch.pool.query<{ missing: number }>(
        'SELECT count(*)::int AS missing FROM schema_migrations WHERE checksum IS NULL',
      );
      expect(rows[0]!.missing).toBe(0);
      expect((await migrationStatus(scratch.db)).every((state) => state.applied && !state.edited)).toBe(true);
    } finally {
      await scratch.close();
    }
  });

  it('refuses to start on a migration edited after it was applied, naming the file', async () => {
    const dir = await scratchMigrations();
    await appendFile(path.join(dir, '0004_checkouts.sql'), '\n-- a harmless-looking edit\n');
    await expect(migrate(database.db, { dir })).rejects.toThrow(/Migration 0004_checkouts\.sql was edited/);
    await expect(
      openDatabase(loadConfig({ DATABASE_URL: appUrl, KASSA_AUTO_MIGRATE: 'false' }), logger, {
        migrationsDir: dir,
      }),
    ).rejects.toThrow(/0004_checkouts\.sql was edited/);
    const states = await migrationStatus(database.db, { dir });
    expect(states.filter((state) => state.edited).map((state) => state.version)).toEqual(['0004_checkouts']);
  });
});

describe('an app role without DDL rights (KASSA_AUTO_MIGRATE=false)', () => {
  it('starts on an up-to-date schema, and its role really can create nothing', async () => {
    const opened = await openDatabase(
      loadConfig({ DATABASE_URL: appUrl, KASSA_AUTO_MIGRATE: 'false' }),
      logger,
    );
    try {
      const { rows } = await opened.db.pool.query<{ user: string }>('SELECT current_user AS user');
      expect(rows[0]!.user).toBe(appRole);
      await expect(opened.db.pool.query('CREATE TABLE app_made_this (id int)')).rejects.toThrow(
        /permission denied/,
      );
      await expect(opened.db.pool.query('ALTER TABLE merchants ADD COLUMN nope int')).rejects.toThrow(
        /must be owner/,
      );
      expect(opened.migrations.applied).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('refuses to start while a migration is pending, saying what to run; starts once the job has run it', async () => {
    const dir = await scratchMigrations({
      '0900_scratch-table.sql': 'CREATE TABLE scratch_pending (id bigint PRIMARY KEY);\n',
    });
    const appConfig = loadConfig({ DATABASE_URL: appUrl, KASSA_AUTO_MIGRATE: 'false' });
    await expect(openDatabase(appConfig, logger, { migrationsDir: dir })).rejects.toThrow(
      /not up to date: 1 migration\(s\) pending \(0900_scratch-table\)\. KASSA_AUTO_MIGRATE=false.*run `kassa migrate`/,
    );
    // Nothing was created by the refused start.
    const { rows } = await database.pool.query<{ exists: boolean }>(
      "SELECT to_regclass('scratch_pending') IS NOT NULL AS exists",
    );
    expect(rows[0]!.exists).toBe(false);
    // With auto-migration the same role cannot apply it either: the job needs a role with DDL rights.
    await expect(
      openDatabase(loadConfig({ DATABASE_URL: appUrl }), logger, { migrationsDir: dir }),
    ).rejects.toThrow(/0900_scratch-table\.sql failed: permission denied/);
    // The migration job, with the owner's role.
    const job = await openDatabase(loadConfig({ DATABASE_URL: database.connectionString }), logger, {
      migrationsDir: dir,
      poolMax: 1,
    });
    expect(job.migrations.applied).toEqual(['0900_scratch-table']);
    await job.close();
    await database.pool.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON scratch_pending TO "${appRole}"`);
    const app = await openDatabase(appConfig, logger, { migrationsDir: dir });
    await app.db.pool.query('INSERT INTO scratch_pending (id) VALUES (1)');
    await app.close();
    await database.pool.query('DROP TABLE scratch_pending');
    await database.pool.query("DELETE FROM schema_migrations WHERE version = '0900_scratch-table'");
  });
});

describe('migrations that cannot run in a transaction', () => {
  const concurrentIndex = [
    '-- Built without blocking writes to checkouts.',
    '-- kassa:no-transaction',
    'DROP INDEX CONCURRENTLY IF EXISTS scratch_checkouts_created_idx;',
    'CREATE INDEX CONCURRENTLY scratch_checkouts_created_idx',
    '  ON checkouts (created_at);',
    '',
  ].join('\n');

  it('splits a no-transaction file into its statements', () => {
    expect(splitStatements(concurrentIndex)).toEqual([
      'DROP INDEX CONCURRENTLY IF EXISTS scratch_checkouts_created_idx;',
      'CREATE INDEX CONCURRENTLY scratch_checkouts_created_idx\n  ON checkouts (created_at);',
    ]);
  });

  it('runs a `-- kassa:no-transaction` file outside a transaction (CREATE INDEX CONCURRENTLY), and records it', async () => {
    const scratch = await createTestDatabase({ poolMax: 2 });
    try {
      // Without the header the same SQL fails: PostgreSQL refuses CONCURRENTLY inside a transaction.
      const withoutHeader = await scratchMigrations({
        '0900_concurrent-index.sql': concurrentIndex.replace('-- kassa:no-transaction\n', ''),
      });
      await expect(migrate(scratch.db, { dir: withoutHeader })).rejects.toThrow(
        /0900_concurrent-index\.sql failed: .*cannot run inside a transaction block/,
      );
      const dir = await scratchMigrations({ '0900_concurrent-index.sql': concurrentIndex });
      expect((await migrate(scratch.db, { dir })).applied).toEqual(['0900_concurrent-index']);
      const { rows } = await scratch.pool.query<{ valid: boolean }>(
        `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'scratch_checkouts_created_idx'::regclass`,
      );
      expect(rows).toEqual([{ valid: true }]);
      const recorded = await scratch.pool.query<{ checksum: string }>(
        "SELECT checksum FROM schema_migrations WHERE version = '0900_concurrent-index'",
      );
      expect(recorded.rows[0]!.checksum).toBe(sha256(Buffer.from(concurrentIndex)));
    } finally {
      await scratch.close();
    }
  });
});

describe('the PostgreSQL server version', () => {
  it('accepts this server and refuses one older than 15, saying which it found', async () => {
    const { rows } = await database.pool.query<{ num: string }>(
      "SELECT current_setting('server_version_num') AS num",
    );
    expect(() => assertSupportedServerVersion(Number(rows[0]!.num))).not.toThrow();
    expect(() => assertSupportedServerVersion(140_012, '14.12')).toThrow(
      /PostgreSQL 14\.12 is too old: Kassa needs PostgreSQL 15 or newer/,
    );
    expect(() => assertSupportedServerVersion(150_000, '15.0')).not.toThrow();
  });
});

describe('kassa migrate / kassa migrate status, as a job on an empty database', () => {
  it('the app refuses to start on it, status lists every migration pending, migrate applies them', async () => {
    const name = `${inject('pgRunPrefix')}_empty_${randomBytes(4).toString('hex')}`;
    const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
    await client.connect();
    await client.query(`CREATE DATABASE "${name}"`);
    const url = withDatabase(inject('pgAdminUrl'), name);
    const env = { DATABASE_URL: url, KASSA_DATA_DIR: path.join(tmpdir(), 'kassa-unused') };
    try {
      const files = (await readdir(DEFAULT_MIGRATIONS_DIR)).filter((file) => file.endsWith('.sql')).sort();
      const refused = await kassa(['serve'], { ...env, KASSA_AUTO_MIGRATE: 'false', PORT: '0' });
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(
        new RegExp(`kassa: The database schema is not up to date: ${files.length} migration\\(s\\) pending`),
      );
      expect(refused.stderr).not.toMatch(/\n\s+at /);

      const before = await kassa(['migrate', 'status'], env);
      expect(before.code, before.stderr).toBe(0);
      for (const file of files)
        expect(before.stdout).toMatch(new RegExp(`${file.replace('.sql', '')}\\s+pending`));
      expect(before.stdout).toContain(`0 applied, ${files.length} pending`);

      const job = await kassa(['migrate'], env);
      expect(job.code, job.stderr).toBe(0);
      expect(job.stdout).toContain(`applied: ${files.map((file) => file.replace('.sql', '')).join(', ')}`);

      const after = await kassa(['migrate', 'status', '--json'], env);
      const states = JSON.parse(after.stdout) as { version: string; applied: boolean; edited: boolean }[];
      expect(states.map((state) => [state.version, state.applied, state.edited])).toEqual(
        files.map((file) => [file.replace('.sql', ''), true, false]),
      );
      const help = await kassa(['migrate', 'status', '--help'], {});
      expect(help.stdout).toMatch(/applied or pending/);
    } finally {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    }
  });
});
