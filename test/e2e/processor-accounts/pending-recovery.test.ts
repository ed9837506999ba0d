/**
 * A payment the processor answered `pending` whose webhook never comes: the recovery worker asks the
 * processor (`getPaymentStatus`) once the payment has been unchanged for the recovery age, applies a decision
 * through the same state machine as the webhook, and asks at most once per recovery age. Against the fake
 * Stripe and the fake Adyen on loopback; time moves through the test clock.
 *
 * - Stripe, intent `processing`, its webhooks lost: still processing → the payment stays PENDING; once Stripe
 *   authorized it → AUTHORIZED, then captured once (automatic capture) → SUCCEEDED, with its events once;
 *   the late webhooks then change nothing.
 * - Adyen has no read API: its pending payment is skipped without error (not asked again for an hour), and
 *   its AUTHORISATION webhook still settles it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../../src/connectors/stripe/index.ts';
import { UNANSWERED_STATUS_CHECK_RETRY_MS } from '../../../src/modules/payments/operations/recover-payments.ts';
import {
  FAKE_ADYEN_CARDS,
  FAKE_ADYEN_HOLDER_NAMES,
  startFakeAdyen,
  type FakeAdyen,
} from '../../fakes/adyen/fake-adyen.ts';
import { startFakeStripe, STRIPE_TEST_CARDS, type FakeStripe } from '../../fakes/stripe/fake-stripe.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import {
  cardMethod,
  createPaymentCheckout,
  get,
  payByApi,
  paymentEvents,
  post,
  type PaymentJson,
} from '../payments/payment-fixtures.ts';

const RECOVERY_MS = 1_000;
const STRIPE_WEBHOOK_SECRET = 'whsec_pendingRecoverySecret0123456';

let t: TestApp;
let stripe: FakeStripe;
let adyen: FakeAdyen;
let stripeShop: TestMerchant;
let adyenShop: TestMerchant;
let stripeAccount: { id: string; webhook_url: string };
let adyenAccount: { id: string; webhook_url: string };
// Starts at the real time: the fakes sign their webhooks with it, and Kassa checks Stripe's 5-minute tolerance.
const clock = createManualClock(new Date());

beforeAll(async () => {
  t = await createTestApp({ clock, listen: true, env: { KASSA_PAYMENT_RECOVERY_MS: String(RECOVERY_MS) } });
  stripe = await startFakeStripe({ apiVersion: STRIPE_API_VERSION });
  adyen = await startFakeAdyen();
  stripeShop = await t.createMerchant({ name: 'Stripe pending shop' });
  adyenShop = await t.createMerchant({ name: 'Adyen pending shop' });
  const connected = await post(t, stripeShop, '/v1/processor-accounts', {
    processor: 'stripe',
    credentials: { secret_key: stripe.secretKey, webhook_secret: STRIPE_WEBHOOK_SECRET },
    payment_methods: ['card'],
    api_base_url: stripe.url,
  });
  expect(connected.statusCode, connected.body).toBe(201);
  stripeAccount = connected.json();
  // The merchant has not registered the webhook at Stripe yet: every event Stripe records is lost for now.
  const adyenConnected = await post(t, adyenShop, '/v1/processor-accounts', {
    processor: 'adyen',
    credentials: { api_key: adyen.apiKey, merchant_account: adyen.merchantAccount, hmac_key: adyen.hmacKey },
    payment_methods: ['card'],
    api_base_url: adyen.url,
  });
  expect(adyenConnected.statusCode, adyenConnected.body).toBe(201);
  adyenAccount = adyenConnected.json();
});
afterAll(async () => {
  await stripe?.close();
  await adyen?.close();
  await t?.close();
});

const recoverLater = async () => {
  clock.advance(RECOVERY_MS / 1000 + 0.1);
  return t.services.payments.recover();
};

async function paymentRow(paymentId: string) {
  const { rows } = await t.database.db.query<{
    status: string;
    connector_id: string;
    connector_reference: string | null;
    processing_since: Date | null;
    status_check_due_at: Date | null;
  }>(
    `SELECT status, connector_id, connector_reference, processing_since, status_check_due_at
       FROM payments WHERE id = $1`,
    [paymentId],
  );
  return rows[0]!;
}

/** Stripe status lookups of one intent the fake received (GET /v1/payment_intents/{id}). */
const lookupsOf = (intentId: string) =>
  stripe.requests.filter(
    (request) => request.method === 'GET' && request.path === `/v1/payment_intents/${intentId}`,
  ).length;

const capturesOf = (intentId: string) =>
  stripe.requests.filter(
    (request) => request.method === 'POST' && request.path === `/v1/payment_intents/${intentId}/capture`,
  ).length;

async function pendingStripePayment(): Promise<{ payment: PaymentJson; intentId: string }> {
  const checkout = await createPaymentCheckout(t, stripeShop, {
    currency: 'EUR',
    amount: 2500,
    capture: 'automatic',
  });
  const paid = await payByApi(t, stripeShop, checkout.id, cardMethod(STRIPE_TEST_CARDS.processing));
  expect(paid.statusCode, paid.body).toBeLessThan(300);
  const payment = paid.json<PaymentJson>();
  expect(payment).toMatchObject({ status: 'PENDING', processing: false });
  const row = await paymentRow(payment.id);
  expect(row).toMatchObject({ connector_id: stripeAccount.id, processing_since: null });
  expect(stripe.intent(row.connector_reference!)).toMatchObject({ status: 'processing' });
  return { payment, intentId: row.connector_reference! };
}

async function appliedNotifications(accountId: string) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const { rows } = await t.database.db.query<{ applied_at: Date | null }>(
      'SELECT applied_at FROM processor_notifications WHERE processor_account_id = $1',
      [accountId],
    );
    if (rows.length > 0 && rows.every((row) => row.applied_at !== null)) return rows.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the notifications were not applied');
}

describe('recovery of pending payments whose processor notification never came', () => {
  it('Stripe: still processing stays PENDING; succeeded → SUCCEEDED once; the late webhooks change nothing', async () => {
    const { payment, intentId } = await pendingStripePayment();

    // Younger than the recovery age: not asked.
    expect((await t.services.payments.recover()).pending).toBe(0);
    expect(lookupsOf(intentId)).toBe(0);

    // Still processing at Stripe: asked once, left PENDING.
    expect((await recoverLater()).pending).toBe(0);
    expect(lookupsOf(intentId)).toBe(1);
    expect(await paymentRow(payment.id)).toMatchObject({ status: 'PENDING', processing_since: null });
    const eventsWhilePending = (await paymentEvents(t, payment.id)).map((event) => event.type);

    // Stripe decides (Kassa's intents are manual-capture: Kassa captures an automatic payment itself); its
    // webhook is lost (no endpoint registered).
    stripe.settle(intentId, 'authorized');
    expect(stripe.intent(intentId)).toMatchObject({ status: 'requires_capture' });
    expect(stripe.deliveries).toEqual([]);

    // Not due again before the recovery age since the last check: nobody hammers Stripe.
    expect((await t.services.payments.recover()).pending).toBe(0);
    expect(lookupsOf(intentId)).toBe(1);

    const settled = await recoverLater();
    expect(settled.pending).toBe(1);
    // The status check, then the automatic capture's own reads of the intent.
    const lookupsSettled = lookupsOf(intentId);
    expect(lookupsSettled).toBeGreaterThanOrEqual(2);
    const after = (await get(t, stripeShop, `/v1/payments/${payment.id}`)).json<PaymentJson>();
    expect(after).toMatchObject({ status: 'SUCCEEDED', captured_amount: 2500, processing: false });
    expect(stripe.intent(intentId)).toMatchObject({ status: 'succeeded', amount_received: 2500 });
    expect(capturesOf(intentId)).toBe(1);
    const events = (await paymentEvents(t, payment.id)).map((event) => event.type);
    const added = events.slice(eventsWhilePending.length);
    expect(added).toEqual(
      expect.arrayContaining(['payment.authorized', 'payment.captured', 'payment.succeeded']),
    );
    for (const type of new Set(added)) expect(added.filter((one) => one === type)).toHaveLength(1);

    // Later rounds: the payment is settled, nothing is asked or applied again.
    expect((await recoverLater()).pending).toBe(0);
    expect(lookupsOf(intentId)).toBe(lookupsSettled);

    // The merchant registers the webhook: Stripe's events about this intent arrive late (and one twice).
    stripe.setWebhookEndpoint(stripeAccount.webhook_url, STRIPE_WEBHOOK_SECRET);
    const intentEvents = stripe.events.filter(
      (event) => (event.data as { object: { id: string } }).object.id === intentId,
    );
    expect(intentEvents.map((event) => event.type)).toContain('payment_intent.succeeded');
    for (const event of intentEvents) expect(await stripe.deliver(String(event.id))).toBe(200);
    const succeeded = intentEvents.find((event) => event.type === 'payment_intent.succeeded')!;
    expect(await stripe.deliver(String(succeeded.id))).toBe(200);
    expect(await appliedNotifications(stripeAccount.id)).toBeGreaterThan(0);

    expect((await paymentEvents(t, payment.id)).map((event) => event.type)).toEqual(events);
    expect((await get(t, stripeShop, `/v1/payments/${payment.id}`)).json<PaymentJson>()).toMatchObject({
      status: 'SUCCEEDED',
      captured_amount: 2500,
    });
    // One PaymentIntent, captured once.
    expect(stripe.intentsFor(payment.id)).toHaveLength(1);
    expect(capturesOf(intentId)).toBe(1);
    expect(stripe.violations).toEqual([]);
  });

  it('Stripe: an intent still processing stays PENDING through rounds, asked once per recovery age', async () => {
    const { payment, intentId } = await pendingStripePayment();
    for (let round = 1; round <= 3; round += 1) {
      await recoverLater();
      expect(lookupsOf(intentId)).toBe(round);
      // Two processes' rounds at once: one claims the payment, the other skips it.
      await Promise.all([t.services.payments.recover(), t.services.payments.recover()]);
      expect(lookupsOf(intentId)).toBe(round);
    }
    expect(await paymentRow(payment.id)).toMatchObject({ status: 'PENDING', processing_since: null });
    expect((await paymentEvents(t, payment.id)).map((event) => event.type)).not.toContain(
      'payment.succeeded',
    );
  });

  it('Adyen (no read API): a pending payment is skipped without error, and its webhook still settles it', async () => {
    const checkout = await createPaymentCheckout(t, adyenShop, { currency: 'EUR', amount: 1800 });
    const paid = await payByApi(
      t,
      adyenShop,
      checkout.id,
      cardMethod(FAKE_ADYEN_CARDS.authorised, { holder_name: FAKE_ADYEN_HOLDER_NAMES.pending }),
    );
    expect(paid.statusCode, paid.body).toBeLessThan(300);
    const payment = paid.json<PaymentJson>();
    expect(payment).toMatchObject({ status: 'PENDING' });
    const row = await paymentRow(payment.id);
    expect(row).toMatchObject({ connector_id: adyenAccount.id, processing_since: null });
    const pspReference = row.connector_reference!;

    const requestsBefore = adyen.requests.length;
    const round = await recoverLater();
    expect(round.pending).toBe(0);
    expect(adyen.requests.length).toBe(requestsBefore);
    const skipped = await paymentRow(payment.id);
    expect(skipped.status).toBe('PENDING');
    // Not asked again for an hour (not at every round).
    expect(skipped.status_check_due_at!.getTime()).toBeGreaterThanOrEqual(
      clock.now().getTime() + UNANSWERED_STATUS_CHECK_RETRY_MS,
    );
    const dueAt = skipped.status_check_due_at!.getTime();
    await recoverLater();
    expect((await paymentRow(payment.id)).status_check_due_at!.getTime()).toBe(dueAt);

    // Adyen's AUTHORISATION webhook is its source of truth.
    adyen.setWebhookUrl(adyenAccount.webhook_url);
    await adyen.settlePending(pspReference, 'authorized');
    await adyen.drain();
    await appliedNotifications(adyenAccount.id);
    expect((await get(t, adyenShop, `/v1/payments/${payment.id}`)).json<PaymentJson>()).toMatchObject({
      status: 'AUTHORIZED',
    });
    expect(adyen.violations).toEqual([]);
  });
});
