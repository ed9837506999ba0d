import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutIdOf,
  countCheckoutsOfLink,
  createLink,
  eventsOf,
  linkRequest,
  openLink,
  pathOf,
  payWithApprovedCard,
  type PaymentLinkJson,
} from './payment-link-fixtures.ts';

/**
 * Opening a link (`GET /l/{id}/{signature}`): each visit gets a checkout session of its own (or joins one when
 * every remaining completion is already held), sent to Kassa's page or the merchant's landing page; a used
 * link says so and creates nothing; completing the session counts towards the link in the same transaction.
 */
describe('opening payment links', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp({ listen: true });
    merchant = await testApp.createMerchant();
  });
  afterAll(() => testApp.close());

  const getLink = async (id: string) =>
    (
      await testApp.app.inject({ method: 'GET', url: `/v1/payment-links/${id}`, headers: merchant.headers })
    ).json<PaymentLinkJson>();

  it('opens a checkout session for the order and sends the shopper to its payment page (303)', async () => {
    const link = await createLink(
      testApp,
      merchant,
      linkRequest({ locale: 'ES_LATAM', metadata: { source: 'qr' } }),
    );
    const response = await openLink(testApp, link);
    expect(response.statusCode).toBe(303);
    expect(response.headers['cache-control']).toBe('no-store');
    const location = String(response.headers.location);
    const checkoutId = checkoutIdOf(location);

    const checkout = (
      await testApp.app.inject({
        method: 'GET',
        url: `/v1/checkouts/${checkoutId}`,
        headers: merchant.headers,
      })
    ).json();
    expect(checkout).toMatchObject({
      status: 'OPEN',
      checkout_redirect_url: location,
      locale: 'ES_LATAM',
      metadata: { source: 'qr' },
      completed_redirect_url: 'https://shop.example/done',
      order: { merchant_order_id: 'link-order-1', total_amount: 2_500, currency: 'EUR', status: 'CREATED' },
    });
    const { rows } = await testApp.database.db.query<{ payment_link_id: string }>(
      'SELECT payment_link_id FROM checkouts WHERE id = $1',
      [checkoutId],
    );
    expect(rows[0]!.payment_link_id).toBe(link.payment_link_id);
    expect(checkout.payment_link_id).toBe(link.payment_link_id);
    // The session's creation event names the link too: a merchant can tell a link's sessions from the start.
    const { rows: created } = await testApp.database.db.query<{ data: { payment_link_id: string | null } }>(
      `SELECT data FROM events WHERE checkout_id = $1 AND type = 'checkout.created'`,
      [checkoutId],
    );
    expect(created.map((event) => event.data.payment_link_id)).toEqual([link.payment_link_id]);

    // The first visit started the activation window, and the session ends with it.
    const opened = await getLink(link.payment_link_id);
    expect(opened.first_opened_at).not.toBeNull();
    expect(Date.parse(opened.completable_until!) - Date.parse(opened.first_opened_at!)).toBe(600_000);
    expect(checkout.expires_at).toBe(opened.completable_until);

    // The hosted page it points at is Kassa's payment page for that session.
    const page = await testApp.app.inject({ method: 'GET', url: pathOf(location) });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
  });

  it('a single-use link is paid once: reopened while open it joins the same session; once paid it says it is used and creates nothing', async () => {
    const link = await createLink(testApp, merchant);
    const first = String((await openLink(testApp, link)).headers.location);
    const again = String((await openLink(testApp, link)).headers.location);
    expect(again).toBe(first);
    expect(await countCheckoutsOfLink(testApp, link.payment_link_id)).toBe(1);

    const paid = await payWithApprovedCard(testApp, merchant, checkoutIdOf(first));
    expect(paid.status).toMatch(/^(SUCCEEDED|AUTHORIZED)$/);
    const completed = await getLink(link.payment_link_id);
    expect(completed).toMatchObject({ status: 'COMPLETED', completions: 1 });
    expect(completed.completed_at).not.toBeNull();
    const events = await eventsOf(testApp, link.payment_link_id);
    const completion = events.find((event) => event.type === 'payment_link.completed');
    expect(completion).toMatchObject({
      checkout_id: checkoutIdOf(first),
      data: { status: 'COMPLETED', completions: 1 },
    });
    expect(completion!.object_version).toBe(completed.version);

    const used = await openLink(testApp, link);
    expect(used.statusCode).toBe(410);
    expect(used.headers['content-type']).toMatch(/^text\/html/);
    expect(used.headers['content-security-policy']).toContain("default-src 'none'");
    expect(used.body).toContain('This payment link has already been used');
    expect(used.body).toContain('link-order-1');
    expect(await countCheckoutsOfLink(testApp, link.payment_link_id)).toBe(1);
  });

  it('a reusable link gives each visitor a session until its remaining completions are all held, and completes at its cap', async () => {
    const link = await createLink(testApp, merchant, linkRequest({ usage: 'reusable', max_completions: 2 }));
    const a = checkoutIdOf(String((await openLink(testApp, link)).headers.location));
    const b = checkoutIdOf(String((await openLink(testApp, link)).headers.location));
    expect(b).not.toBe(a);
    // Both remaining completions are held: a third visitor joins the newest session instead of a new one.
    const c = checkoutIdOf(String((await openLink(testApp, link)).headers.location));
    expect(c).toBe(b);
    expect(await countCheckoutsOfLink(testApp, link.payment_link_id)).toBe(2);

    await payWithApprovedCard(testApp, merchant, a);
    expect(await getLink(link.payment_link_id)).toMatchObject({ status: 'ACTIVE', completions: 1 });
    await payWithApprovedCard(testApp, merchant, b);
    expect(await getLink(link.payment_link_id)).toMatchObject({ status: 'COMPLETED', completions: 2 });
    expect(
      (await eventsOf(testApp, link.payment_link_id)).filter(
        (event) => event.type === 'payment_link.completed',
      ),
    ).toHaveLength(1);
    expect((await openLink(testApp, link)).body).toContain('already been used');
  });

  it('parallel visits of a single-use link over real HTTP all land on one session', async () => {
    const link = await createLink(testApp, merchant);
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => fetch(link.url, { redirect: 'manual' })),
    );
    const locations = new Set(responses.map((response) => response.headers.get('location')));
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(303));
    expect(locations.size).toBe(1);
    expect(await countCheckoutsOfLink(testApp, link.payment_link_id)).toBe(1);
  });

  it('with a landing page, sends the shopper there with the session and a client token the SDK can use', async () => {
    const link = await createLink(
      testApp,
      merchant,
      linkRequest({ landing_url: 'https://shop.example/qr?campaign=spring#top' }),
    );
    const response = await openLink(testApp, link);
    expect(response.statusCode).toBe(303);
    const landing = new URL(String(response.headers.location));
    expect(`${landing.origin}${landing.pathname}`).toBe('https://shop.example/qr');
    expect(landing.hash).toBe('#top');
    expect(landing.searchParams.get('campaign')).toBe('spring');
    expect(landing.searchParams.get('kassa_link')).toBe(link.payment_link_id);
    const session = landing.searchParams.get('kassa_session')!;
    const token = landing.searchParams.get('kassa_token')!;
    expect(token).toMatch(/^ct_/);

    const asClient = (path: string, bearer = token) =>
      testApp.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${bearer}` } });
    const methods = await asClient(`/v1/checkouts/${session}/payment-methods`);
    expect(methods.statusCode).toBe(200);
    expect(methods.json().payment_methods.length).toBeGreaterThan(0);
    const summary = await asClient(`/v1/checkouts/${session}/session`);
    expect(summary.statusCode).toBe(200);
    expect(summary.json()).toMatchObject({
      checkout_id: session,
      status: 'OPEN',
      order: { total_amount: 2_500, currency: 'EUR' },
    });

    // Reopened (say, the QR scanned again) it joins the same session with a fresh token; the old one stops working.
    const reopened = new URL(String((await openLink(testApp, link)).headers.location));
    expect(reopened.searchParams.get('kassa_session')).toBe(session);
    const newToken = reopened.searchParams.get('kassa_token')!;
    expect(newToken).not.toBe(token);
    expect((await asClient(`/v1/checkouts/${session}/session`, newToken)).statusCode).toBe(200);
    expectProblem(await asClient(`/v1/checkouts/${session}/session`));
  });

  it('a wrong signature or unknown link shows the not-found page and creates nothing; HEAD opens nothing', async () => {
    const link = await createLink(testApp, merchant);
    const forged = pathOf(link.url).replace(/[0-9a-f]{64}$/, 'f'.repeat(64));
    const response = await testApp.app.inject({ method: 'GET', url: forged });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    const unknown = await testApp.app.inject({
      method: 'GET',
      url: `/l/pl_${'0'.repeat(32)}/${'0'.repeat(64)}`,
    });
    expect(unknown.statusCode).toBe(404);

    const head = await testApp.app.inject({ method: 'HEAD', url: pathOf(link.url) });
    expect(head.statusCode).not.toBe(303);
    expect(await countCheckoutsOfLink(testApp, link.payment_link_id)).toBe(0);
    expect((await getLink(link.payment_link_id)).first_opened_at).toBeNull();
  });
});
