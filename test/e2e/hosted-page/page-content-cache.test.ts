import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHostedPageContentCache,
  findHostedPageSnapshot,
  type HostedPageSources,
} from '../../../src/http/hosted/hosted-page.repository.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createHostedCheckout, getPage } from './hosted-fixtures.ts';

/**
 * The hosted page keeps the checkout, order and customer it read for the next view of the same checkout, and
 * reads them again only when one of their rows changed (hosted-page.repository.ts). These tests change the rows
 * behind the page's back, with plain SQL that bumps no version, and expect the next view to show the change.
 */
describe('the hosted page content kept between views', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant({ name: 'Fjellbu' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows a change to the order, the checkout or the customer at the next view', async () => {
    const checkout = await createHostedCheckout(t, merchant, { amount: 4200, merchantOrderId: 'FB-1' });
    const first = await getPage(t, checkout.path);
    expect(first.status).toBe(200);
    expect(first.html).toContain('Trail shoes');
    expect((await getPage(t, checkout.path)).html).toContain('Trail shoes');

    await t.services.db.query(
      `UPDATE orders SET products = '[{"id":"sku-2","name":"Wool socks","quantity":1,"unit_price":4200}]'
        WHERE id = $1`,
      [checkout.orderId],
    );
    const afterOrder = await getPage(t, checkout.path);
    expect(afterOrder.html).toContain('Wool socks');
    expect(afterOrder.html).not.toContain('Trail shoes');

    await t.services.db.query(`UPDATE checkouts SET status = 'CANCELED', canceled_at = now() WHERE id = $1`, [
      checkout.checkoutId,
    ]);
    const afterCheckout = await getPage(t, checkout.path);
    expect(afterCheckout.status).toBe(200);
    expect(afterCheckout.html).not.toContain('Wool socks');
    expect(afterCheckout.html).not.toContain('autocomplete="cc-number"');
  });

  it('reads the customer again when only its row changed', async () => {
    const checkout = await createHostedCheckout(t, merchant, { email: 'kari@example.com' });
    expect(checkout.customerId).not.toBeNull();
    const sources: HostedPageSources = {
      db: t.services.db,
      merchants: t.services.merchants,
      paymentMethodSettings: t.services.paymentMethodSettings,
      contents: createHostedPageContentCache(),
    };
    const first = await findHostedPageSnapshot(sources, checkout.checkoutId);
    const again = await findHostedPageSnapshot(sources, checkout.checkoutId);
    // Unchanged rows: the same (frozen) objects, not read again.
    expect(again!.order).toBe(first!.order);
    expect(Object.isFrozen(again!.order.customer)).toBe(true);

    await t.services.db.query(`UPDATE customers SET first_name = 'Kari' WHERE id = $1`, [
      checkout.customerId,
    ]);
    const changed = await findHostedPageSnapshot(sources, checkout.checkoutId);
    expect(changed!.order).not.toBe(first!.order);
    expect(changed!.order.customer?.firstName).toBe('Kari');
    expect(first!.order.customer?.firstName).toBe('Ada');
  });
});
