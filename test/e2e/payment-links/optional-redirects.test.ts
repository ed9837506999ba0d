/**
 * A payment link without `completed_redirect_url` / `canceled_redirect_url` (docs/payment-links.md): created
 * through the API, opened, paid (or canceled) on the hosted page like a shopper — and the shopper ends on
 * Kassa's own page of the session, which shows the outcome and offers no way "back" to a store it does not know.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { csrfOf, getPage, payWithCard, postForm } from '../hosted-page/hosted-fixtures.ts';
import { createLink, linkRequest, openLink, pathOf } from './payment-link-fixtures.ts';

let t: TestApp;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp();
  merchant = await t.createMerchant();
});
afterAll(() => t.close());

function withoutRedirects(orderId: string) {
  const { completed_redirect_url: _done, canceled_redirect_url: _cancel, ...request } = linkRequest();
  return { ...request, order: { ...request.order, merchant_order_id: orderId } };
}

describe('payment links without redirect URLs', () => {
  it('are created with null redirect URLs; an invalid one is still refused', async () => {
    const link = await createLink(t, merchant, withoutRedirects('invoice-1'));
    expect(link.completed_redirect_url).toBeNull();
    expect(link.canceled_redirect_url).toBeNull();
    const fetched = await t.app.inject({
      url: `/v1/payment-links/${link.payment_link_id}`,
      headers: merchant.headers,
    });
    expect(fetched.json()).toMatchObject({ completed_redirect_url: null, canceled_redirect_url: null });

    const refused = await t.app.inject({
      method: 'POST',
      url: '/v1/payment-links',
      headers: merchant.headers,
      payload: { ...withoutRedirects('invoice-2'), completed_redirect_url: 'ftp://shop.example/' },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors[0].pointer).toBe('/completed_redirect_url');
  });

  it("after paying, the shopper ends on Kassa's page of the session showing the order paid", async () => {
    const link = await createLink(t, merchant, withoutRedirects('invoice-3'));
    const opened = await openLink(t, link);
    expect(opened.statusCode).toBe(303);
    const pagePath = pathOf(opened.headers.location as string);
    expect(pagePath).toMatch(/^\/pay\/chk_\w+\/\w+$/);

    const paid = await payWithCard(t, pagePath);
    expect(paid.status).toBe(303);
    const landing = new URL(paid.location!);
    // Back to the same page (with the signed outcome parameters a merchant URL would get).
    expect(`${landing.origin}${landing.pathname}`).toBe(`${t.baseUrl}${pagePath}`);
    expect(landing.searchParams.get('status')).toBe('PAID');
    expect(landing.searchParams.get('signature')).toBeTruthy();

    const final = await getPage(t, pathOf(paid.location!));
    expect(final.status).toBe(200);
    expect(final.html).toContain('This order is paid');
    expect(final.html).not.toContain(`${pagePath}/store`);

    const checkoutId = pagePath.split('/')[2]!;
    const checkout = await t.app.inject({ url: `/v1/checkouts/${checkoutId}`, headers: merchant.headers });
    expect(checkout.json()).toMatchObject({
      status: 'COMPLETED',
      completed_redirect_url: `${t.baseUrl}${pagePath}`,
    });
  });

  it("after canceling, the shopper ends on Kassa's page showing the payment canceled", async () => {
    const link = await createLink(t, merchant, withoutRedirects('invoice-4'));
    const pagePath = pathOf((await openLink(t, link)).headers.location as string);
    const page = await getPage(t, pagePath);
    const canceled = await postForm(t, `${pagePath}/cancel`, { csrf_token: csrfOf(page.html) });
    expect(canceled.status).toBe(303);
    const landing = new URL(canceled.location!);
    expect(`${landing.origin}${landing.pathname}`).toBe(`${t.baseUrl}${pagePath}`);
    const final = await getPage(t, pathOf(canceled.location!));
    expect(final.status).toBe(200);
    expect(final.html).toContain('Payment canceled');
    expect(final.html).not.toContain(`${pagePath}/store`);
  });

  it("a link with redirect URLs still sends the shopper to the merchant's", async () => {
    const link = await createLink(
      t,
      merchant,
      linkRequest({ order: { ...linkRequest().order, merchant_order_id: 'o-5' } }),
    );
    const pagePath = pathOf((await openLink(t, link)).headers.location as string);
    const paid = await payWithCard(t, pagePath);
    expect(paid.location!.startsWith('https://shop.example/done?')).toBe(true);
  });
});
