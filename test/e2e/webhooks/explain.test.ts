import { afterAll, beforeAll, it } from 'vitest';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';
let t: TestApp;
beforeAll(async () => { t = await createTestApp(); });
afterAll(async () => { await t.close(); });
it('explain', async () => {
  const m = await t.createMerchant();
  for (let i = 0; i < 3; i++) {
    const other = await t.createMerchant();
    await t.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: other.headers, payload: { url: 'http://127.0.0.1:9/x', enabled_events: ['*'] } });
  }
  await t.app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: m.headers, payload: { url: 'http://127.0.0.1:9/x', enabled_events: ['*'] } });
  await t.services.db.query(`INSERT INTO events (id, merchant_id, livemode, type, object_id, data) SELECT 'evt_' || lpad(to_hex(g), 32, '0'), $1, false, 'payment.succeeded', 'pay_x', jsonb_build_object('amount', g) FROM generate_series(1, 20000) AS g`, [m.merchantId]);
  await t.services.db.query('ANALYZE');
  const ex = async (sql: string, values: unknown[]) => {
    const c = await t.services.db.pool.connect();
    await c.query('BEGIN');
    const r = await c.query('EXPLAIN (ANALYZE, BUFFERS) ' + sql, values);
    await c.query('ROLLBACK'); c.release();
    console.log(r.rows.map((x: any) => x['QUERY PLAN']).join('\n'));
  };
  const { rows } = await t.services.db.query<{ id: string }>(`SELECT id FROM events ORDER BY seq LIMIT 200`);
  const ids = rows.map((r) => r.id);
  if (0) await ex(`UPDATE events SET fanout_state = 'done', fanout_lease_until = NULL WHERE id = ANY (ARRAY(SELECT id FROM events WHERE fanout_state = 'pending' AND (fanout_lease_until IS NULL OR fanout_lease_until < now()) ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)) RETURNING id`, [200]);
  const { fanOutPendingEvents } = await import('../../../src/outbox/fan-out.repository.ts');
  const { claimDueDeliveries, recordAttemptResults } = await import('../../../src/outbox/webhook-delivery.repository.ts');
  while ((await fanOutPendingEvents(t.services.db, 500)).events > 0);
  await t.services.db.query('ANALYZE');
  const orig = t.services.db.query.bind(t.services.db);
  const spy = { query: async (sql: string, values: unknown[]) => { await ex(sql, values); return orig(sql, values); } } as any;
  const claimed = await claimDueDeliveries(spy, { limit: 200, leaseSeconds: 60, leaseToken: 'tok' });
  await recordAttemptResults(spy, claimed.map((c) => ({ deliveryId: c.id, leaseToken: c.leaseToken, outcome: 'succeeded' as const, retryInSeconds: null, error: null, attempt: { number: 1, attemptedAt: new Date(), url: c.url, statusCode: 200, latencyMs: 1, responseExcerpt: 'ok', responseTruncated: false } })));
});
