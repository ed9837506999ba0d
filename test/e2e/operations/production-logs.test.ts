/**
 * `kassa serve` in production (src/main.ts, in process): the start-up banner and lifecycle lines are JSON
 * lines like the request logs, the banner never carries credentials, request lines are at info level, and
 * the KASSA_METRICS_PORT listener serves /metrics next to the main port (which answers 404 there).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { findFreePort } from '../../../src/db/embedded.ts';
import { serve } from '../../../src/main.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.close();
});

it('writes JSON lines only, and serves metrics on their own port', { timeout: 60_000 }, async () => {
  const [port, metricsPort] = [await findFreePort(), await findFreePort()];
  const config = loadConfig({
    KASSA_ENV: 'production',
    DATABASE_URL: database.connectionString,
    KASSA_MASTER_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    PORT: String(port),
    KASSA_PUBLIC_URL: `http://127.0.0.1:${port}`,
    KASSA_WORKERS: 'false',
    KASSA_METRICS_PORT: String(metricsPort),
  });
  let output = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      output += String(chunk);
      done();
    },
  });
  const gateway = await serve(config, { stream });
  try {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toMatch(/kassa_http_request_duration_seconds_count\{[^}]*route="\/healthz"/);
  } finally {
    await gateway.close();
  }
  gateway.log.info('stopped');
  const lines = output
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const banner = lines.find((line) => line.msg === 'Kassa is running');
  expect(banner).toMatchObject({
    level: 30,
    environment: 'production',
    public_url: `http://127.0.0.1:${port}`,
    metrics: { main_port: false, port: metricsPort },
    demo_shop: false,
  });
  expect(output).not.toMatch(/client_secret|sk_test_|sk_live_/);
  expect(lines).toContainEqual(expect.objectContaining({ msg: 'request completed', level: 30 }));
  expect(lines.at(-1)).toMatchObject({ msg: 'stopped', level: 30 });
});
