import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkoutServiceDeps,
  closeCheckout,
  sweepExpiredCheckouts,
} from '../../../src/modules/checkouts/checkout.service.ts';
import { sweepExpiredPaymentLinks } from '../../../src/modules/payment-links/payment-link.service.ts';
import { createWorkers } from '../../../src/workers/workers.ts';
import { createTestClock } from '../../fixtures/clock.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutIdOf,
  countCheckoutsOfLink,
  createLink,
  eventsOf,
  linkRequest,
  openLink,
  payWithApprovedCard,
  type PaymentLinkJson,
} from './payment-link-fixtures.ts';

/**
 * Time and the merchant close links: the activation window after the first visit, the validity (expiry sweep,
 * driven by a test clock — no sleeping), and deactivation. A closed link says so and creates nothing.
 */
describe('payment link lifecycle', () => {
  const clock = createTestClock();
  let testApp: TestApp;
  let merchant: TestMerchant;
  let sweepLinks: () => Promise<number>;

  beforeAll(async () => {
    testApp = await createTestApp({ clock });
    merchant = await testApp.createMerchant();
    sweepLinks = () => sweepExpiredPaymentLinks(testApp.database.db, checkoutServiceDeps(testApp.services));
  });
  afterAll(() => testApp.close());

  const getLink = async (id: string) =>
    (
      await testApp.app.inject({ method: 'GET', url: `/v1/payment-links/${id}`, headers: merchant.headers })
    ).json<PaymentLinkJson>();
  const checkoutStatus = async (id: string) => {
    const { rows } = await testApp.database.db.query<{ status: string }>(
      'SELECT status FROM checkouts WHERE id = $1',
      [id],
    );
    return rows[0]!.status;
  };
  const deactivate = (id: string) =>
    testApp.app.inject({
      method: 'POST',
      url: `/v1/payment-links/${id}/deactivate`,
      headers: merchant.headers,
    });

  it('once opened, the link can be paid only within its activation window', async () => {
    const link = await createLink(testApp, merchant, linkRequest({ activation_window_seconds: 120 }));
    const session = checkoutIdOf(String((await openLink(testApp, link)).headers.location));
    const opened = await getLink(link.payment_link_id);
    expect(opened.first_opened_at).toBe(clock.now().toISOString());
    expect(opened.completable_until).toBe(new Date(clock.now().getTime() + 120_000).toISOString());

    clock.advance(119_000);
    expect(checkoutIdOf(String((await openLink(testApp, link)).headers.location))).toBe(session);

    clock.advance(1_000);
    const late = await openLink(testApp, link);
    expect(late.statusCode).toBe(410);
    expect(late.body).toContain('This payment link has expired');
    expect(await countCheckoutsOfLink(testApp, link.payment_link_id)).toBe(1);
    const expired = await getLink(link.payment_link_id);
    expect(expired).toMatchObject({ status: 'EXPIRED', expired_at: clock.now().toISOString() });
    expect((await eventsOf(testApp, link.payment_link_id)).map((event) => event.type)).toEqual([
      'payment_link.created',
      'payment_link.expired',
    ]);

    // The session ended with the window: it can no longer be paid.
    await expect(payWithApprovedCard(testApp, merchant, session)).rejects.toThrow(/pay: 4\d\d/);
  });

  it('never lets the activation window outlast the validity', async () => {
    const link = await createLink(
      testApp,
      merchant,
      linkRequest({ expires_in_seconds: 300, activation_window_seconds: 600 }),
    );
    await openLink(testApp, link);
    const opened = await getLink(link.payment_link_id);
    expect(opened.completable_until).toBe(link.expires_at);
  });

  it('the expiry sweep moves links past their validity to EXPIRED at the deadline, not before, with one event', async () => {
    const link = await createLink(testApp, merchant, linkRequest({ expires_in_seconds: 60 }));
    await sweepLinks(); // anything older than this test is swept first
    clock.advance(59_000);
    expect(await sweepLinks()).toBe(0);
    expect((await getLink(link.payment_link_id)).status).toBe('ACTIVE');

    clock.advance(1_000);
    expect(await sweepLinks()).toBe(1);
    const expired = await getLink(link.payment_link_id);
    expect(expired).toMatchObject({ status: 'EXPIRED', expired_at: clock.now().toISOString(), version: 2 });
    const events = await eventsOf(testApp, link.payment_link_id);
    expect(events.at(-1)).toMatchObject({
      type: 'payment_link.expired',
      object_version: 2,
      data: { status: 'EXPIRED' },
    });
    expect(await sweepLinks()).toBe(0);

    const visit = await openLink(testApp, link);
    expect(visit.statusCode).toBe(410);
    expect(visit.body).toContain('This payment link has expired');
    expect(await countCheckoutsOfLink(testApp, link.payment_link_id)).toBe(0);
  });

  it('the workers sweep links whose activation window has ended, and their sessions expire with them', async () => {
    const link = await createLink(testApp, merchant, linkRequest({ activation_window_seconds: 60 }));
    const session = checkoutIdOf(String((await openLink(testApp, link)).headers.location));
    clock.advance(60_000);
    const worker = createWorkers(testApp.services).find(
      (candidate) => candidate.name === 'expire-payment-links',
    );
    expect(worker).toBeDefined();
    await worker!.run();
    expect((await getLink(link.payment_link_id)).status).toBe('EXPIRED');
    await sweepExpiredCheckouts(testApp.database.db, checkoutServiceDeps(testApp.services));
    expect(await checkoutStatus(session)).toBe('EXPIRED');
  });

  it('deactivation closes the link and its idle sessions; a deactivated link says so; deactivating twice is a 409', async () => {
    const link = await createLink(testApp, merchant);
    const session = checkoutIdOf(String((await openLink(testApp, link)).headers.location));

    const response = await deactivate(link.payment_link_id);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      status: 'DEACTIVATED',
      deactivated_at: clock.now().toISOString(),
    });
    expect(await checkoutStatus(session)).toBe('EXPIRED');
    expect((await eventsOf(testApp, link.payment_link_id)).at(-1)).toMatchObject({
      type: 'payment_link.deactivated',
      data: { status: 'DEACTIVATED' },
    });

    const visit = await openLink(testApp, link);
    expect(visit.statusCode).toBe(410);
    expect(visit.body).toContain('This payment link is no longer active');
    expect(await countCheckoutsOfLink(testApp, link.payment_link_id)).toBe(1);

    const again = await deactivate(link.payment_link_id);
    expect(again.statusCode).toBe(409);
    const problem = expectProblem(again);
    expect(problem).toMatchObject({
      code: 'invalid_state_transition',
      current_status: 'DEACTIVATED',
      allowed_statuses: ['ACTIVE'],
    });
  });

  it('a completed link cannot be deactivated', async () => {
    const link = await createLink(testApp, merchant);
    await payWithApprovedCard(
      testApp,
      merchant,
      checkoutIdOf(String((await openLink(testApp, link)).headers.location)),
    );
    const response = await deactivate(link.payment_link_id);
    expect(response.statusCode).toBe(409);
    expect(expectProblem(response)).toMatchObject({ current_status: 'COMPLETED' });
  });

  it('a session with a payment in flight survives deactivation; when it completes it is counted but the link stays DEACTIVATED', async () => {
    const link = await createLink(testApp, merchant);
    const session = checkoutIdOf(String((await openLink(testApp, link)).headers.location));
    await testApp.database.db.query(`UPDATE checkouts SET active_payment_id = 'pay_inflight' WHERE id = $1`, [
      session,
    ]);
    expect((await deactivate(link.payment_link_id)).statusCode).toBe(200);
    expect(await checkoutStatus(session)).toBe('OPEN');

    const deps = checkoutServiceDeps(testApp.services);
    await testApp.database.db.transaction((tx) =>
      closeCheckout(tx, deps, { merchantId: merchant.merchantId, livemode: false }, session, 'COMPLETED', {
        action: 'complete',
        refuseWhilePaymentActive: false,
      }),
    );
    expect(await getLink(link.payment_link_id)).toMatchObject({ status: 'DEACTIVATED', completions: 1 });
    expect((await eventsOf(testApp, link.payment_link_id)).map((event) => event.type)).not.toContain(
      'payment_link.completed',
    );
  });
});
