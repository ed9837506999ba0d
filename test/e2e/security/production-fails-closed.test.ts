import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../../src/db/embedded.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';
import { startGatewayProcess, type GatewayProcess } from '../../fixtures/gateway-process.ts';
import { createTestApp } from '../../fixtures/test-app.ts';

/**
 * The real `kassa serve` refuses to start on a mode or a production setting it cannot trust, instead of
 * quietly running as development (docs/security.md, "Production fails closed"); and once served over https
 * every response carries Strict-Transport-Security.
 */

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// bin/kassa.js runs dist/ in production (test/e2e/production/compiled-gateway.test.ts builds and runs it);
// here production starts the same CLI from the sources, so no build is needed.
const KASSA_FROM_SOURCES = [
  '--import',
  'tsx',
  fileURLToPath(new URL('../../../src/cli.ts', import.meta.url)),
];

// vitest sets NODE_ENV=test for its workers, and children inherit it: an empty value is "not set".
const UNSET = { KASSA_ENV: '', NODE_ENV: '' };

let database: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-fails-closed-'));
});

afterAll(async () => {
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** `kassa serve` that must stop by itself: its exit code and output. */
function serveExpectingExit(env: Record<string, string>): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const entry = env.KASSA_ENV === 'production' ? KASSA_FROM_SOURCES : [KASSA_BIN];
    const child = spawn(process.execPath, [...entry, 'serve'], {
      cwd: REPO_ROOT,
      env: { ...process.env, KASSA_LOG_LEVEL: 'warn', KASSA_DATA_DIR: dataDir, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', output });
    });
  });
}

const productionEnv = () => ({
  ...UNSET,
  KASSA_ENV: 'production',
  KASSA_MASTER_KEY: randomBytes(32).toString('base64'),
  KASSA_PUBLIC_URL: 'https://pay.kassa.test',
  DATABASE_URL: database.connectionString,
  HOST: '127.0.0.1',
});

describe('an unrecognised or missing mode', () => {
  it.each(['prod', 'Production'])('NODE_ENV=%s: refuses to start', async (value) => {
    const run = await serveExpectingExit({
      ...UNSET,
      NODE_ENV: value,
      DATABASE_URL: database.connectionString,
    });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain(`NODE_ENV: "${value}" is not a Kassa mode`);
    expect(run.output).not.toContain('Kassa is running');
  });

  it('neither set and listening beyond loopback: refuses until KASSA_ENV is set', async () => {
    const run = await serveExpectingExit({
      ...UNSET,
      HOST: '0.0.0.0',
      DATABASE_URL: database.connectionString,
    });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('KASSA_ENV: required when listening on a non-loopback address');
  });

  it('neither set on loopback: development, and the banner says so and why', async () => {
    let gateway: GatewayProcess | undefined;
    try {
      gateway = await startGatewayProcess(
        { ...UNSET, HOST: '127.0.0.1', DATABASE_URL: database.connectionString, KASSA_DATA_DIR: dataDir },
        { waitForOutput: /Mode:.*\n/ },
      );
      expect(gateway.output()).toMatch(
        /Mode: +development {2}\(from default: KASSA_ENV unset, listening on loopback\)/,
      );
    } finally {
      gateway?.child.kill('SIGTERM');
      await gateway?.exited;
    }
  });
});

describe('production settings', () => {
  it('refuses a missing or http public URL', async () => {
    const missing = await serveExpectingExit({ ...productionEnv(), KASSA_PUBLIC_URL: '' });
    expect(missing.code, missing.output).toBe(1);
    expect(missing.output).toContain('KASSA_PUBLIC_URL: required in production');
    const plain = await serveExpectingExit({ ...productionEnv(), KASSA_PUBLIC_URL: 'http://pay.kassa.test' });
    expect(plain.code, plain.output).toBe(1);
    expect(plain.output).toContain('KASSA_PUBLIC_URL: must be an https URL in production');
  });

  it('refuses a weak master key (32 zero bytes)', async () => {
    const run = await serveExpectingExit({
      ...productionEnv(),
      KASSA_MASTER_KEY: Buffer.alloc(32).toString('base64'),
    });
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/KASSA_MASTER_KEY looks constant or patterned/);
  });

  it('starts with an https public URL, says production in the banner, and sends HSTS on pages, API and errors', async () => {
    const port = await findFreePort();
    // A database of its own: the development start above sealed a signing key with another master key.
    const own = await createTestDatabase();
    const child = spawn(process.execPath, [...KASSA_FROM_SOURCES, 'serve'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        KASSA_LOG_LEVEL: 'info', // production's banner is a JSON line at info (src/main.ts)
        KASSA_DATA_DIR: dataDir,
        ...productionEnv(),
        DATABASE_URL: own.connectionString,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 20_000; // within the test timeout, so the finally below always stops it
      const bannerLine = () => output.split('\n').find((line) => line.includes('"msg":"Kassa is running"'));
      while (!bannerLine() && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(JSON.parse(bannerLine() ?? '{}'), output).toMatchObject({
        environment: 'production',
        environment_source: 'KASSA_ENV',
      });
      for (const target of [
        '/healthz',
        '/docs',
        '/openapi.json',
        '/v1/checkouts',
        '/no-such-page',
        '/sdk/v1/kassa.js',
      ]) {
        const response = await fetch(`${base}${target}`);
        expect(response.headers.get('strict-transport-security'), target).toBe(
          'max-age=31536000; includeSubDomains',
        );
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
      await own.close();
    }
  });
});

describe('Strict-Transport-Security follows the public URL', () => {
  it('is absent over http (a browser would ignore it, and the URL says plain http)', async () => {
    const plain = await createTestApp();
    try {
      const response = await plain.app.inject({ method: 'GET', url: '/healthz' });
      expect(response.headers['strict-transport-security']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  it('is sent in any mode once the public URL is https', async () => {
    const tls = await createTestApp({ env: { KASSA_PUBLIC_URL: 'https://pay.kassa.test' } });
    try {
      for (const url of ['/healthz', '/v1/payments/pay_missing', '/docs']) {
        const response = await tls.app.inject({ method: 'GET', url });
        expect(response.headers['strict-transport-security'], url).toBe(
          'max-age=31536000; includeSubDomains',
        );
      }
    } finally {
      await tls.close();
    }
  });
});
