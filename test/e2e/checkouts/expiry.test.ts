import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkoutServiceDeps,
  sweepExpiredCheckouts,
} from '../../../src/modules/checkouts/checkout.service.ts';
import { createWorkers } from '../../../src/workers/workers.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, createCheckout, createManualClock, simpleOrder } from './checkout-fixtures.ts';

/**
 * Sessions expire by themselves at `expires_at`: the sweep is driven by the test's clock (no sleeping), takes
 * due sessions with SKIP LOCKED so several processes can run it at once, skips sessions with a payment in
 * flight, and writes the session, order and events together.
 */
describe('checkout expiry sweep', () => {
  const clock = createManualClock();
  let testApp: TestApp;
  let merchant: TestMerchant;
  let sweep: (options?: { batchSize?: number }) => Promise<number>;

  beforeAll(async () => {
    testApp = await createTestApp({ clock, poolMax: 30 });
    merchant = await testApp.createMerchant();
    const deps = checkoutServiceDeps(testApp.services);
    sweep = (options) => sweepExpiredCheckouts(testApp.database.db, deps, options);
  });
  afterAll(() => testApp.close());

  const shortLived = (lifetime = 60) =>
    checkoutRequest(simpleOrder('EUR', 'FI', 2_500), { expires_in_seconds: lifetime });

  async function statusOf(checkoutId: string) {
    const { rows } = await testApp.database.db.query<{ checkout: string; order: string }>(
      'SELECT c.status AS checkout, o.status AS order FROM checkouts c JOIN orders o ON o.checkout_id = c.id WHERE c.id = $1',
      [checkoutId],
    );
    return rows[0];
  }

  async function countExpiredEvents() {
    const { rows } = await testApp.database.db.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM events WHERE type = 'checkout.expired'`,
    );
    return rows[0]!.count;
  }

  it('expires a session at its deadline, not before, with its order and events', async () => {
    const created = await createCheckout(testApp, merchant, shortLived());
    clock.advance(59);
    expect(await sweep()).toBe(0);
    expect(await statusOf(created.checkout_id)).toEqual({ checkout: 'OPEN', order: 'CREATED' });

    clock.advance(1);
    expect(await sweep()).toBe(1);
    expect(await statusOf(created.checkout_id)).toEqual({ checkout: 'EXPIRED', order: 'EXPIRED' });
    const fetched = (
      await testApp.app.inject({
        method: 'GET',
        url: `/v1/checkouts/${created.checkout_id}`,
        headers: merchant.headers,
      })
    ).json();
    expect(fetched).toMatchObject({
      status: 'EXPIRED',
      expired_at: clock.now().toISOString(),
      version: 2,
      order: { status: 'EXPIRED' },
    });

    const { rows } = await testApp.database.db.query<{
      type: string;
      object_version: number;
      data: Record<string, unknown>;
    }>(
      `SELECT type, object_version, data FROM events WHERE checkout_id = $1 AND type IN ('checkout.expired', 'order.updated') ORDER BY seq`,
      [created.checkout_id],
    );
    expect(rows.map((row) => row.type)).toEqual(['checkout.expired', 'order.updated']);
    expect(rows[0]).toMatchObject({
      object_version: 2,
      data: { status: 'EXPIRED', order: { status: 'EXPIRED', total_amount: 2_500 } },
    });
    expect(rows[1]).toMatchObject({ object_version: 2, data: { status: 'EXPIRED', total_amount: 2_500 } });

    // Nothing left to do: a second sweep changes nothing and writes nothing.
    const events = await countExpiredEvents();
    expect(await sweep()).toBe(0);
    expect(await countExpiredEvents()).toBe(events);
  });

  it('leaves sessions with a payment in flight alone, and closed sessions too', async () => {
    const paying = await createCheckout(testApp, merchant, shortLived());
    const completed = await createCheckout(testApp, merchant, shortLived());
    await testApp.database.db.query(`UPDATE checkouts SET active_payment_id = 'pay_inflight' WHERE id = $1`, [
      paying.checkout_id,
    ]);
    await testApp.database.db.query(`UPDATE checkouts SET status = 'COMPLETED' WHERE id = $1`, [
      completed.checkout_id,
    ]);
    clock.advance(120);
    expect(await sweep()).toBe(0);
    expect(await statusOf(paying.checkout_id)).toEqual({ checkout: 'OPEN', order: 'CREATED' });

    // When the attempt ends without closing the session, the next sweep expires it.
    await testApp.database.db.query('UPDATE checkouts SET active_payment_id = NULL WHERE id = $1', [
      paying.checkout_id,
    ]);
    expect(await sweep()).toBe(1);
    expect(await statusOf(paying.checkout_id)).toEqual({ checkout: 'EXPIRED', order: 'EXPIRED' });
    expect(await statusOf(completed.checkout_id)).toEqual({ checkout: 'COMPLETED', order: 'CREATED' });
  });

  it('skips a session another transaction holds, without waiting for it', async () => {
    const held = await createCheckout(testApp, merchant, shortLived());
    const free = await createCheckout(testApp, merchant, shortLived());
    clock.advance(61);
    const client = await testApp.database.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1 FROM checkouts WHERE id = $1 FOR UPDATE', [held.checkout_id]);
      expect(await sweep()).toBe(1);
      expect((await statusOf(free.checkout_id))?.checkout).toBe('EXPIRED');
      expect((await statusOf(held.checkout_id))?.checkout).toBe('OPEN');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await sweep()).toBe(1);
    expect((await statusOf(held.checkout_id))?.checkout).toBe('EXPIRED');
  });

  it('parallel sweeps (several gateway processes) expire every due session exactly once', async () => {
    const count = 120;
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1)
      ids.push((await createCheckout(testApp, merchant, shortLived())).checkout_id);
    clock.advance(61);
    const before = await countExpiredEvents();

    const results = await Promise.all(Array.from({ length: 4 }, () => sweep({ batchSize: 10 })));
    expect(results.reduce((sum, n) => sum + n, 0)).toBe(count);
    expect(await countExpiredEvents()).toBe(before + count);
    const { rows } = await testApp.database.db.query<{ status: string; count: number }>(
      'SELECT status, count(*)::int AS count FROM checkouts WHERE id = ANY($1) GROUP BY status',
      [ids],
    );
    expect(rows).toEqual([{ status: 'EXPIRED', count }]);
  });

  it('runs as the expire-checkouts worker', async () => {
    const created = await createCheckout(testApp, merchant, shortLived());
    clock.advance(61);
    const worker = createWorkers(testApp.services).find((candidate) => candidate.name === 'expire-checkouts');
    expect(worker?.intervalMs).toBeLessThanOrEqual(10_000);
    await worker!.run();
    expect(await statusOf(created.checkout_id)).toEqual({ checkout: 'EXPIRED', order: 'EXPIRED' });
  });
});
