import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import { authorizedPayment, post } from '../payments/payment-fixtures.ts';
import { addUser, csrfOf, formKeyOf, page, signIn, submit } from './dashboard-fixtures.ts';

/**
 * The order page's one timeline names who did what: each event carries its actor (docs/events.md, "Actor"),
 * and the page shows a dashboard person by e-mail and an API credential by its id.
 */
describe('dashboard order timeline: who did what', () => {
  const clock = createManualClock(new Date());
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp({ clock });
    merchant = await testApp.createMerchant({ name: 'Actor Shop' });
    await addUser(testApp, merchant.merchantId, 'anna@shop.example', 'support');
  });
  afterAll(() => testApp.close());

  /** The timeline entries of an order page, as text without tags. */
  function timelineEntries(html: string): string[] {
    return [...html.matchAll(/<li class="dash-timeline__entry">([\s\S]*?)<\/li>/g)].map((match) =>
      match[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '),
    );
  }

  it('names the dashboard person on the refund they made, and the API key on an API capture', async () => {
    const payment = await authorizedPayment(testApp, merchant, { capture: 'manual', amount: 1000 });
    const captured = await post(
      testApp,
      merchant,
      `/v1/payments/${payment.id}/capture`,
      { amount: 1000 },
      {
        'idempotency-key': 'actor-capture-1',
      },
    );
    expect(captured.statusCode, captured.body).toBeLessThan(300);
    const { rows: keys } = await testApp.database.pool.query<{ id: string }>(
      'SELECT id FROM api_keys WHERE merchant_id = $1',
      [merchant.merchantId],
    );
    expect(keys).toHaveLength(1);
    const keyId = keys[0]!.id;
    expect(keyId).toMatch(/^key_/);

    const session = await signIn(testApp, 'anna@shop.example');
    const url = `/dashboard/orders/${payment.order_id}`;
    const detail = await page(testApp, session, url);
    const action = `/dashboard/payments/${payment.id}/refund`;
    const refunded = await submit(testApp, session, action, {
      csrf_token: csrfOf(detail.body),
      form_key: formKeyOf(detail.body, action),
      amount: '3.00',
      reason: 'Late delivery',
    });
    expect(refunded.headers.location).toBe(`${url}?notice=refunded`);

    const entries = timelineEntries((await page(testApp, session, url)).body);
    const refund = entries.filter((entry) => entry.includes('refund.succeeded'));
    expect(refund).toHaveLength(1);
    expect(refund[0]).toContain('by anna@shop.example (dashboard)');
    const capture = entries.filter((entry) => entry.includes('payment.captured'));
    expect(capture).toHaveLength(1);
    expect(capture[0]).toContain(`by API key ${keyId}`);
    expect(capture[0]).not.toContain('anna@shop.example');
    // The checkout and the payment were made through the API too: every event names its actor.
    const created = entries.filter((entry) => entry.includes('order.created'));
    expect(created[0]).toContain(`by API key ${keyId}`);
    // Webhook and callback attempts are Kassa's own; events are the entries that carry an actor.
    for (const entry of entries.filter((text) => / (order|payment|refund|checkout)\.[a-z_]+ /.test(text)))
      expect(entry).toMatch(/ by /);
  });
});
