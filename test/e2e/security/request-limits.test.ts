/**
 * Per-credential request limits (RateLimit-* headers, 429 rate_limited + Retry-After, counted in PostgreSQL so
 * every process shares them) and load shedding (503 service_unavailable + Retry-After at once when the event
 * loop lags or queries queue for the pool — never a hang). Both are off by default; these tests configure low
 * limits (src/http/plugins/rate-limit.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('per-credential request limits', () => {
  it('count each credential, announce the budget, and refuse over it with 429 + Retry-After', async () => {
    t = await createTestApp({
      env: { KASSA_RATE_LIMIT_REQUESTS: '3', KASSA_RATE_LIMIT_WINDOW_SECONDS: '60' },
    });
    const merchant = await t.createMerchant({ name: 'Busy' });
    const other = await t.createMerchant({ name: 'Quiet' });
    const get = (app = t!.app, headers = merchant.headers) =>
      app.inject({ method: 'GET', url: '/v1/merchant', headers });

    const remaining: string[] = [];
    for (let request = 0; request < 3; request += 1) {
      const response = await get();
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBe('3');
      expect(response.headers['ratelimit-policy']).toBe('3;w=60');
      expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThan(0);
      expect(Number(response.headers['ratelimit-reset'])).toBeLessThanOrEqual(60);
      remaining.push(String(response.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const refused = await get();
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers['ratelimit-remaining']).toBe('0');

    // Another credential has its own budget.
    expect((await get(t.app, other.headers)).statusCode).toBe(200);

    // Shared through PostgreSQL, not held in the process: a second app instance over the same database
    // (another gateway process, as far as the limiter can tell) sees the budget already spent.
    const secondProcess = await buildApp(t.services, { logStream: false });
    try {
      expect((await get(secondProcess)).statusCode).toBe(429);
    } finally {
      await secondProcess.close();
    }
  });

  it('are off by default: no headers, no refusal', async () => {
    t = await createTestApp();
    const merchant = await t.createMerchant();
    for (let request = 0; request < 5; request += 1) {
      const response = await t.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers });
      expect(response.statusCode).toBe(200);
      expect(response.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe('load shedding', () => {
  it('answers 503 + Retry-After at once while queries queue for the pool, and serves again after', async () => {
    t = await createTestApp({
      poolMax: 2,
      env: { KASSA_SHED_POOL_WAITING: '2', KASSA_SHED_RETRY_AFTER_SECONDS: '3' },
    });
    const merchant = await t.createMerchant();
    const pool = t.services.db.pool;
    // Saturate the pool: both connections held, two more queries waiting for one.
    const held = await Promise.all([pool.connect(), pool.connect()]);
    const waiting = [pool.connect(), pool.connect()];
    expect(pool.waitingCount).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    const shed = await t.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(shed.statusCode).toBe(503);
    expect(shed.json()).toMatchObject({ code: 'service_unavailable', status: 503 });
    expect(shed.headers['retry-after']).toBe('3');

    for (const client of held) client.release();
    for (const client of await Promise.all(waiting)) client.release();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const served = await t.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers });
    expect(served.statusCode).toBe(200);
  });

  it('answers 503 + Retry-After while the event loop lags', async () => {
    t = await createTestApp({ env: { KASSA_SHED_EVENT_LOOP_DELAY_MS: '200' } });
    const merchant = await t.createMerchant();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Stall the event loop (as a CPU-bound burst would), then let the sampler see it. The sampler reports the
    // lag of its last 100 ms interval, so on a loaded machine the request may land just outside that window:
    // stall again (at most three times) rather than time the request.
    let shed = await t.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers });
    for (let attempt = 0; attempt < 3 && shed.statusCode !== 503; attempt += 1) {
      const until = Date.now() + 1_200;
      while (Date.now() < until) {
        // busy: nothing else runs
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
      shed = await t.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers });
    }
    expect(shed.statusCode).toBe(503);
    expect(shed.json().code).toBe('service_unavailable');
    expect(Number(shed.headers['retry-after'])).toBeGreaterThan(0);

    await new Promise((resolve) => setTimeout(resolve, 500));
    const served = await t.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers });
    expect(served.statusCode).toBe(200);
  });
});
