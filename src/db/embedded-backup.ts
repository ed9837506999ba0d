import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  embeddedConnectionString,
  findRunningEmbeddedPort,
  isPostgresProcess,
  isProcessAlive,
  OWNER_FILE,
  readPid,
} from './embedded.ts';

/**
 * Backups of the embedded PostgreSQL server, as a consistent copy of its data folder (`<dataDir>/pg`).
 *
 * The embedded package ships no `pg_dump`, and a distribution's older `pg_dump` refuses a newer server, so the
 * copy is made by the method PostgreSQL documents for base backups ("Making a Base Backup Using the Low Level
 * API"): with the server stopped, a plain copy; with it running (a gateway is up), between `pg_backup_start` and
 * `pg_backup_stop` on one session, followed by the WAL written meanwhile and the `backup_label` the server
 * returns. At the next start the server replays that WAL to a consistent state. A copy taken without the label,
 * or without the WAL, would start and silently hold a torn database: both are written, and the WAL segment
 * the backup starts in is checked to be in the copy.
 *
 * The development master key (`<dataDir>/master.key`, generated when KASSA_MASTER_KEY is unset) goes with the
 * backup: without it the encrypted secrets in the database (signing keys, merchant secrets) cannot be read. A
 * configured KASSA_MASTER_KEY is never written into a backup — it must be kept separately (docs/operations.md).
 */

export const BACKUP_MANIFEST = 'kassa-backup.json';

export type BackupManifest = {
  format: 1;
  createdAt: string;
  /** online: copied from a running server between pg_backup_start/stop; offline: the server was stopped. */
  method: 'online' | 'offline';
  serverVersion: string | null;
  startLsn: string | null;
  stopLsn: string | null;
  /** The development master key is in the backup (master.key); false when KASSA_MASTER_KEY was configured. */
  includesMasterKey: boolean;
};

/** What a copy of a data folder leaves out (PostgreSQL's base backup documentation lists them). */
const SKIPPED_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map']);
const EMPTIED_FOLDERS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
]);

export class BackupError extends Error {}

function copyFilter(pgDir: string) {
  return (source: string) => {
    const relative = path.relative(pgDir, source);
    if (relative === '') return true;
    const [top, ...rest] = relative.split(path.sep);
    if (rest.length === 0 && SKIPPED_FILES.has(top!)) return false;
    if (rest.length > 0 && EMPTIED_FOLDERS.has(top!)) return false;
    const base = path.basename(source);
    if (base.startsWith('pgsql_tmp') || base.startsWith('.s.PGSQL.')) return false;
    try {
      const info = lstatSync(source);
      return info.isFile() || info.isDirectory() || info.isSymbolicLink();
    } catch {
      return false; // removed while copying (a temporary file): nothing to keep
    }
  };
}

/** Whether a server (any process, Kassa's or not) is running on `pgDir` right now. */
async function serverRunningOn(pgDir: string): Promise<boolean> {
  const pid = await readPid(path.join(pgDir, 'postmaster.pid'));
  return pid !== undefined && isProcessAlive(pid) && (await isPostgresProcess(pid));
}

export async function backupEmbedded(options: {
  dataDir: string;
  to: string;
  /** KASSA_MASTER_KEY is configured: the key is not in the data folder, so it is not in the backup. */
  masterKeyConfigured: boolean;
  now?: Date;
}): Promise<BackupManifest> {
  const rootDir = path.resolve(options.dataDir);
  const pgDir = path.join(rootDir, 'pg');
  const target = path.resolve(options.to);
  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
    throw new BackupError(`no embedded database in ${rootDir} (KASSA_DATA_DIR): nothing to back up`);
  }
  if (existsSync(target) && (await readdir(target)).length > 0) {
    throw new BackupError(`${target} is not empty: back up into a new or empty folder`);
  }
  await mkdir(target, { recursive: true, mode: 0o700 });
  const targetPg = path.join(target, 'pg');
  const createdAt = (options.now ?? new Date()).toISOString();

  const port = await findRunningEmbeddedPort(rootDir);
  let manifest: BackupManifest;
  if (port === undefined) {
    if (await serverRunningOn(pgDir)) {
      throw new BackupError(
        `a PostgreSQL server runs on ${pgDir} without a Kassa process: stop it, or start the gateway, and try again`,
      );
    }
    // Stopped (cleanly, or by a crash: then the copy is what a crash left, which the server recovers from).
    await cp(pgDir, targetPg, { recursive: true, filter: copyFilter(pgDir) });
    await cp(path.join(pgDir, 'pg_wal'), path.join(targetPg, 'pg_wal'), { recursive: true });
    const serverVersion = (await readFile(path.join(pgDir, 'PG_VERSION'), 'utf8')).trim();
    manifest = {
      format: 1,
      createdAt,
      method: 'offline',
      serverVersion,
      startLsn: null,
      stopLsn: null,
      includesMasterKey: false,
    };
  } else {
    manifest = await copyOnline(rootDir, port, pgDir, targetPg, createdAt);
  }
  for (const folder of EMPTIED_FOLDERS) await mkdir(path.join(targetPg, folder), { recursive: true });
  await mkdir(path.join(targetPg, 'pg_wal', 'archive_status'), { recursive: true });

  const masterKeyFile = path.join(rootDir, 'master.key');
  if (!options.masterKeyConfigured && existsSync(masterKeyFile)) {
    await cp(masterKeyFile, path.join(target, 'master.key'));
    await chmod(path.join(target, 'master.key'), 0o600);
    manifest.includesMasterKey = true;
  }
  await writeFile(path.join(target, BACKUP_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, {
    mode: 0o600,
  });
  return manifest;
}

async function copyOnline(
  rootDir: string,
  port: number,
  pgDir: string,
  targetPg: string,
  createdAt: string,
): Promise<BackupManifest> {
  const client = new pg.Client({ connectionString: embeddedConnectionString(rootDir, port, 'postgres') });
  await client.connect();
  try {
    const version = await client.query<{ version: string }>(
      "SELECT current_setting('server_version') AS version",
    );
    // fast = true: an immediate checkpoint, so the backup does not wait for the next scheduled one.
    const started = await client.query<{ lsn: string }>(
      "SELECT pg_backup_start('kassa backup', true)::text AS lsn",
    );
    let stopped: { lsn: string; labelfile: string; spcmapfile: string | null };
    try {
      await cp(pgDir, targetPg, { recursive: true, filter: copyFilter(pgDir) });
    } finally {
      // Always end the backup mode on this session, also when the copy failed.
      const result = await client.query<{ lsn: string; labelfile: string; spcmapfile: string | null }>(
        'SELECT lsn::text AS lsn, labelfile, spcmapfile FROM pg_backup_stop(false)',
      );
      stopped = result.rows[0]!;
    }
    // Make the WAL up to the backup's end reach the disk in a segment file, then copy it.
    await client.query('SELECT pg_switch_wal()');
    await cp(path.join(pgDir, 'pg_wal'), path.join(targetPg, 'pg_wal'), {
      recursive: true,
      filter: (source) => !path.basename(source).endsWith('.tmp'),
    });
    await writeFile(path.join(targetPg, 'backup_label'), stopped.labelfile);
    if (stopped.spcmapfile) await writeFile(path.join(targetPg, 'tablespace_map'), stopped.spcmapfile);
    // The label names the segment replay starts from ("START WAL LOCATION: 0/5000028 (file 0000…05)"); a
    // checkpoint during a long copy may have recycled it, and the backup would then not start.
    const startSegment = /START WAL LOCATION: \S+ \(file ([0-9A-F]{24})\)/.exec(stopped.labelfile)?.[1];
    if (!startSegment || !existsSync(path.join(targetPg, 'pg_wal', startSegment))) {
      throw new BackupError(
        `the WAL segment the backup starts in (${startSegment ?? 'unknown'}) was recycled during the copy: run the backup again`,
      );
    }
    return {
      format: 1,
      createdAt,
      method: 'online',
      serverVersion: version.rows[0]!.version,
      startLsn: started.rows[0]!.lsn,
      stopLsn: stopped.lsn,
      includesMasterKey: false,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Replaces the embedded database under `dataDir` with the backup in `from`. Refused while any process (a
 * gateway, or a server it left) uses the data folder. The current `pg` folder and master key are moved aside
 * (`pg.before-restore-<time>`), not deleted. The server replays the backup's WAL at its next start.
 */
export async function restoreEmbedded(options: {
  dataDir: string;
  from: string;
  masterKeyConfigured: boolean;
  now?: Date;
}): Promise<{ manifest: BackupManifest; movedAside: string[] }> {
  const rootDir = path.resolve(options.dataDir);
  const pgDir = path.join(rootDir, 'pg');
  const source = path.resolve(options.from);
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(await readFile(path.join(source, BACKUP_MANIFEST), 'utf8')) as BackupManifest;
  } catch {
    throw new BackupError(`${source} is not a Kassa backup (no readable ${BACKUP_MANIFEST})`);
  }
  if (!existsSync(path.join(source, 'pg', 'PG_VERSION'))) {
    throw new BackupError(`${source} is incomplete: its pg/ folder has no PG_VERSION`);
  }
  const ownerPid = await readPid(path.join(rootDir, OWNER_FILE));
  if (ownerPid !== undefined && isProcessAlive(ownerPid)) {
    throw new BackupError(
      `the data folder ${rootDir} is in use by a running Kassa process (pid ${ownerPid}): stop it before restoring`,
    );
  }
  if (await serverRunningOn(pgDir)) {
    throw new BackupError(`a PostgreSQL server is running on ${pgDir}: stop it before restoring`);
  }
  if (!manifest.includesMasterKey && !options.masterKeyConfigured) {
    throw new BackupError(
      'this backup holds no master key (it was taken with KASSA_MASTER_KEY set): set KASSA_MASTER_KEY to the key ' +
        'in use when it was taken, or its secrets cannot be decrypted',
    );
  }

  await mkdir(rootDir, { recursive: true, mode: 0o755 });
  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const movedAside: string[] = [];
  if (existsSync(pgDir)) {
    const aside = path.join(rootDir, `pg.before-restore-${stamp}`);
    await rename(pgDir, aside);
    movedAside.push(aside);
  }
  await cp(path.join(source, 'pg'), pgDir, { recursive: true });
  await chmod(pgDir, 0o700); // the server refuses a data folder others may read
  if (manifest.includesMasterKey) {
    const keyFile = path.join(rootDir, 'master.key');
    const restoredKey = await readFile(path.join(source, 'master.key'), 'utf8');
    if (existsSync(keyFile) && (await readFile(keyFile, 'utf8')) !== restoredKey) {
      const aside = path.join(rootDir, `master.key.before-restore-${stamp}`);
      await rename(keyFile, aside);
      movedAside.push(aside);
    }
    await writeFile(keyFile, restoredKey, { mode: 0o600 });
  }
  // As root the embedded server runs as the `postgres` user (src/db/embedded.ts), which must own its files.
  if (userInfo().uid === 0) await chownTree(pgDir, postgresUserIds());
  await rm(path.join(rootDir, OWNER_FILE), { force: true });
  return { manifest, movedAside };
}

function postgresUserIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function chownTree(dir: string, ids: { uid: number; gid: number }) {
  await chown(dir, ids.uid, ids.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(full, ids);
    else await chown(full, ids.uid, ids.gid);
  }
}
