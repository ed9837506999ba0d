import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import type { NewEvent } from '../../../src/modules/events/event.types.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { addUser, page, signIn } from './dashboard-fixtures.ts';

/** The dashboard's events log: newest first, filters in the URL, paging, and an event's escaped payload. */
describe('dashboard: events log', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let viewer: string;
  const ids: string[] = [];

  async function emit(
    event: Partial<NewEvent> & { type: NewEvent['type'] },
    merchantId = merchant.merchantId,
  ) {
    const { id } = await t.services.db.transaction((tx) =>
      emitEvent(tx, { merchantId, livemode: false, data: { n: ids.length }, ...event }),
    );
    return id;
  }

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant({ name: 'Log Shop' });
    const other = await t.createMerchant({ name: 'Other Shop' });
    await addUser(t, merchant.merchantId, 'viewer@log.test', 'viewer');
    viewer = await signIn(t, 'viewer@log.test');
    for (let n = 0; n < 30; n++) {
      ids.push(
        await emit({
          type: n % 3 === 0 ? 'payment.succeeded' : 'checkout.created',
          objectId: `pay_log${String(n % 5).padStart(29, '0')}`,
        }),
      );
    }
    ids.push(
      await emit({
        type: 'payment.succeeded',
        objectId: 'pay_script',
        orderId: 'ord_script',
        data: { object: 'payment', note: '</pre><script>alert(1)</script>', amount: 999 },
      }),
    );
    await emit({ type: 'payment.succeeded', objectId: 'pay_elsewhere' }, other.merchantId);
    await emit({ type: 'payment.succeeded', objectId: 'pay_live' }).then(async () => {
      // A live-mode event of the same merchant: not in this test-mode session's log.
      await t.services.db.transaction((tx) =>
        emitEvent(tx, {
          merchantId: merchant.merchantId,
          livemode: true,
          type: 'payment.succeeded',
          objectId: 'pay_livemode',
          data: {},
        }),
      );
    });
  });
  afterAll(() => t?.close());

  const listedIds = (html: string) =>
    [...html.matchAll(/href="\/dashboard\/events\/(evt_[A-Za-z0-9]+)"/g)].map((m) => m[1]);

  it('lists this mode’s events newest first, 25 a page, with a link to the older ones', async () => {
    const first = await page(t, viewer, '/dashboard/events');
    expect(first.statusCode).toBe(200);
    const shown = listedIds(first.body);
    expect(shown).toHaveLength(25);
    expect(shown[1]).toBe(ids.at(-1));
    expect(first.body).not.toContain('pay_elsewhere');
    expect(first.body).not.toContain('pay_livemode');
    const next = /href="(\/dashboard\/events\?starting_after=[^"]+)" rel="next"/.exec(first.body)![1]!;
    const second = await page(t, viewer, next.replaceAll('&amp;', '&'));
    const rest = listedIds(second.body);
    expect(rest).toHaveLength(7);
    expect(new Set([...shown, ...rest]).size).toBe(32);
    expect(second.body).not.toContain('rel="next"');
    expect(second.body).toContain('Newest events');
  });

  it('filters by type and object id, kept in the URL', async () => {
    const object = `pay_log${'0'.repeat(29)}`;
    const response = await page(t, viewer, `/dashboard/events?type=payment.succeeded&object=${object}`);
    const shown = listedIds(response.body);
    // n = 0, 15 (n % 5 == 0 and n % 3 == 0).
    expect(shown).toEqual([ids[15], ids[0]]);
    expect(response.body).toContain(`value="${object}"`);
    expect(response.body).toContain('<option value="payment.succeeded" selected');
    const byType = listedIds((await page(t, viewer, '/dashboard/events?type=checkout.created')).body);
    expect(byType).toHaveLength(20);
    // A filter that is not one shows everything rather than an error.
    expect((await page(t, viewer, '/dashboard/events?type=nonsense&object=%3Cx%3E')).statusCode).toBe(200);
  });

  it('shows an event’s payload as escaped, formatted JSON', async () => {
    const response = await page(t, viewer, `/dashboard/events/${ids.at(-1)}`);
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain('<script>alert(1)');
    expect(response.body).toContain('&lt;/pre>&lt;script>alert(1)&lt;/script>');
    expect(response.body).toContain('  &quot;amount&quot;: 999');
    expect(response.body).toContain('href="/dashboard/orders/ord_script"');
    expect(response.body).toContain('No deliveries yet.');
    expect((await page(t, viewer, '/dashboard/events/evt_missing')).statusCode).toBe(404);
  });
});
