/**
 * Saved cards stay sandbox-only (docs/processors.md): once a checkout's cards go to a real processor account —
 * Stripe here, the fake Stripe on loopback, in test and in live mode — the hosted page neither lists saved cards
 * nor offers to save one, and charging one (a forged hosted form, or the Processor API) is refused before any
 * processor is called. Cards routed to the sandbox again (the account disabled) make them chargeable again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../../src/connectors/stripe/index.ts';
import { saveCard } from '../../../src/modules/payments/saved-payment-method.service.ts';
import { startFakeStripe, STRIPE_TEST_CARDS, type FakeStripe } from '../../fakes/stripe/fake-stripe.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  CARDS,
  cardForm,
  createHostedCheckout,
  csrfOf,
  getPage,
  paymentsOf,
  postForm,
} from '../hosted-page/hosted-fixtures.ts';

let t: TestApp;
let stripe: FakeStripe;
let liveStripe: FakeStripe;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp();
  stripe = await startFakeStripe({ apiVersion: STRIPE_API_VERSION });
  liveStripe = await startFakeStripe({
    apiVersion: STRIPE_API_VERSION,
    secretKey: 'sk_live_savedCardsLive0123',
  });
  merchant = await t.createMerchant();
});
afterAll(async () => {
  await stripe?.close();
  await liveStripe?.close();
  await t?.close();
});

const savedRadio = /type="radio"[^>]*value="(pm_[0-9a-f]{44})"/;

async function connectStripe(who: TestMerchant, fake: FakeStripe): Promise<string> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/processor-accounts',
    headers: who.headers,
    payload: {
      processor: 'stripe',
      credentials: { secret_key: fake.secretKey },
      payment_methods: ['card'],
      api_base_url: fake.url,
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string }>().id;
}

const payWithSaved = (who: TestMerchant, checkoutId: string, savedId: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: who.headers,
    payload: { checkout_id: checkoutId, payment_method: { saved_payment_method_id: savedId } },
  });

describe('saved cards and real processors', () => {
  it('test mode: offered while cards go to the sandbox; hidden and refused once they go to Stripe', async () => {
    const email = 'ada.saved@example.com';
    // Saved through the sandbox, as today.
    const first = await createHostedCheckout(t, merchant, { allowSave: true, email });
    const firstPage = await getPage(t, first.path);
    const paid = await postForm(
      t,
      first.path,
      cardForm(csrfOf(firstPage.html), CARDS.approved, { save_card: 'yes' }),
    );
    expect(paid.status).toBe(303);
    const { rows } = await t.services.db.query<{ id: string }>(
      'SELECT id FROM saved_payment_methods WHERE customer_id = $1',
      [first.customerId],
    );
    expect(rows).toHaveLength(1);
    const savedId = rows[0]!.id;

    const accountId = await connectStripe(merchant, stripe);
    const second = await createHostedCheckout(t, merchant, { allowSave: true, email, verified: true });
    const page = await getPage(t, second.path);
    expect(page.status).toBe(200);
    expect(page.html).not.toMatch(savedRadio);
    expect(page.html).not.toContain('Visa •••• 4242');
    expect(page.html).not.toContain('name="save_card"');

    // A forged form naming the saved card charges nothing.
    const forged = await postForm(t, second.path, { csrf_token: csrfOf(page.html), payment_method: savedId });
    expect(forged.status).toBe(422);
    expect(await paymentsOf(t, second.checkoutId)).toEqual([]);

    // The Processor API: a clear refusal pointing at the saved card, before Stripe is asked.
    const refused = await payWithSaved(merchant, second.checkoutId, savedId);
    expect(expectProblem(refused)).toMatchObject({ status: 422, code: 'payment_method_not_available' });
    expect(expectProblem(refused).detail).toContain('sandbox only');
    expect(expectProblem(refused).errors).toEqual([
      expect.objectContaining({
        pointer: '/payment_method/saved_payment_method_id',
        code: 'saved_card_sandbox_only',
      }),
    ]);
    expect(await paymentsOf(t, second.checkoutId)).toEqual([]);
    expect(stripe.requests).toEqual([]);

    // Typed card details still pay through Stripe; "save this card" is not honoured there.
    const typed = await postForm(
      t,
      second.path,
      cardForm(csrfOf(page.html), STRIPE_TEST_CARDS.visa, { save_card: 'yes' }),
    );
    expect(typed.status).toBe(303);
    const [payment] = await paymentsOf(t, second.checkoutId);
    expect(payment).toMatchObject({ status: 'SUCCEEDED', saved_payment_method_id: null });
    expect(stripe.intentsFor(payment!.id)).toHaveLength(1);
    const { rows: after } = await t.services.db.query(
      'SELECT id FROM saved_payment_methods WHERE customer_id = $1',
      [first.customerId],
    );
    expect(after).toHaveLength(1);

    // Cards go to the sandbox again: the saved card is offered and charged there.
    const disabled = await t.app.inject({
      method: 'PATCH',
      url: `/v1/processor-accounts/${accountId}`,
      headers: merchant.headers,
      payload: { status: 'DISABLED' },
    });
    expect(disabled.statusCode).toBe(200);
    const third = await createHostedCheckout(t, merchant, { allowSave: true, email, verified: true });
    expect((await getPage(t, third.path)).html).toMatch(savedRadio);
    const charged = await payWithSaved(merchant, third.checkoutId, savedId);
    expect(charged.statusCode, charged.body).toBe(201);
    expect(charged.json()).toMatchObject({ saved_payment_method_id: savedId });
  });

  it('live mode: a saved card is refused for a checkout whose cards go to a live Stripe account', async () => {
    const live = await t.createMerchant({ livemode: true, name: 'Live saved-card shop' });
    await connectStripe(live, liveStripe);
    const checkout = await createHostedCheckout(t, live, {
      allowSave: true,
      email: 'live.saved@example.com',
      verified: true,
    });
    // A card saved for this customer (as by an earlier integration); the page does not show it.
    const saved = await t.services.db.transaction((tx) =>
      saveCard(
        tx,
        { keyring: t.services.keyring, clock: t.services.clock },
        { merchantId: live.merchantId, livemode: true },
        checkout.customerId!,
        { number: '4242424242424242', expMonth: 12, expYear: 2034, cvc: '', holderName: 'Ada Lovelace' },
      ),
    );
    const page = await getPage(t, checkout.path);
    expect(page.html).not.toMatch(savedRadio);
    expect(page.html).not.toContain('name="save_card"');
    const refused = await payWithSaved(live, checkout.checkoutId, saved.id);
    expect(expectProblem(refused)).toMatchObject({ status: 422, code: 'payment_method_not_available' });
    expect(await paymentsOf(t, checkout.checkoutId)).toEqual([]);
    expect(liveStripe.requests).toEqual([]);
  });
});
