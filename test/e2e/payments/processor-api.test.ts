import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutUrlSignature } from '../../../src/modules/checkouts/checkout.tokens.ts';
import { paymentIdForIdempotencyKey } from '../../../src/modules/payments/payment-flow.service.ts';
import { saveCard } from '../../../src/modules/payments/saved-payment-method.service.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  cardMethod,
  createPaymentCheckout,
  get,
  payByApi,
  paymentEvents,
  TEST_CARDS,
  type PaymentJson,
} from './payment-fixtures.ts';

/** The Processor API (docs/hosted-page.md, the callbacks flow): a checkout paid server-to-server, the outcome in the response. */
describe('POST /v1/payments (Processor API)', () => {
  let t: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  const sandboxReference = async (paymentId: string) => {
    const [authorize] = await t.services.sandbox.listOperations({ paymentId, kind: 'authorize' });
    return authorize!.paymentReference!;
  };

  it('pays with an approved card: 201 SUCCEEDED (automatic capture), checkout COMPLETED, order PAID', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic', amount: 2500 });
    const response = await payByApi(t, merchant, checkout.checkout_id);
    expect(response.statusCode).toBe(201);
    const payment = response.json<PaymentJson>();
    expect(payment).toMatchObject({
      object: 'payment',
      status: 'SUCCEEDED',
      processing: false,
      channel: 'api',
      method: 'card',
      amount: 2500,
      currency: 'USD',
      authorized_amount: 2500,
      captured_amount: 2500,
      card: { brand: 'visa', last4: '4242', exp_month: 12, exp_year: 2034 },
      next_action: null,
      checkout_id: checkout.checkout_id,
      order_id: checkout.order.order_id,
    });
    expect(payment.id).toMatch(/^pay_[0-9a-f]{44}$/);
    expect((await get(t, merchant, `/v1/checkouts/${checkout.checkout_id}`)).json().status).toBe('COMPLETED');
    expect((await get(t, merchant, `/v1/orders/${checkout.order.order_id}`)).json()).toMatchObject({
      status: 'PAID',
      captured_amount: 2500,
    });
    const types = (await paymentEvents(t, payment.id)).map((event) => event.type);
    expect(types).toEqual(
      expect.arrayContaining(['payment.authorized', 'payment.captured', 'payment.succeeded']),
    );
  });

  it("records a sale's two steps in its events: authorized (order AUTHORIZED), then captured (order PAID)", async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic', amount: 2500 });
    const payment = (await payByApi(t, merchant, checkout.checkout_id)).json<PaymentJson>();
    const { rows } = await t.database.db.query<{
      type: string;
      object_id: string;
      object_version: number;
      data: Record<string, unknown>;
    }>(`SELECT type, object_id, object_version, data FROM events WHERE checkout_id = $1 ORDER BY seq`, [
      checkout.checkout_id,
    ]);
    const orderId = checkout.order.order_id;
    const steps = rows.map(({ type, object_id, object_version, data }) => ({
      type,
      object_id,
      object_version,
      status: data.status,
      captured_amount: data.captured_amount,
    }));
    expect(steps).toEqual([
      {
        type: 'checkout.created',
        object_id: checkout.checkout_id,
        object_version: 1,
        status: 'OPEN',
        captured_amount: undefined,
      },
      { type: 'order.created', object_id: orderId, object_version: 1, status: 'CREATED', captured_amount: 0 },
      {
        type: 'order.updated',
        object_id: orderId,
        object_version: 2,
        status: 'AUTHORIZED',
        captured_amount: 0,
      },
      {
        type: 'checkout.completed',
        object_id: checkout.checkout_id,
        object_version: 3,
        status: 'COMPLETED',
        captured_amount: undefined,
      },
      {
        type: 'payment.authorized',
        object_id: payment.id,
        object_version: 2,
        status: 'AUTHORIZED',
        captured_amount: 0,
      },
      { type: 'order.updated', object_id: orderId, object_version: 3, status: 'PAID', captured_amount: 2500 },
      {
        type: 'payment.captured',
        object_id: payment.id,
        object_version: 3,
        status: 'SUCCEEDED',
        captured_amount: 2500,
      },
      {
        type: 'payment.succeeded',
        object_id: payment.id,
        object_version: 3,
        status: 'SUCCEEDED',
        captured_amount: 2500,
      },
    ]);
    // Every step's snapshot is the object as it was then: the last ones are what the API answers now. (The
    // steps share one transaction; their updated_at may be one instant or two.)
    const [authorizedOrder, paidOrder] = rows.filter((row) => row.type === 'order.updated');
    expect(paidOrder!.data).toEqual((await get(t, merchant, `/v1/orders/${orderId}`)).json());
    expect(authorizedOrder!.data).toEqual({
      ...paidOrder!.data,
      status: 'AUTHORIZED',
      captured_amount: 0,
      version: 2,
      updated_at: expect.any(String),
    });
    expect(rows.at(-1)!.data).toEqual((await get(t, merchant, `/v1/payments/${payment.id}`)).json());
    expect(rows.find((row) => row.type === 'payment.authorized')!.data).toEqual({
      ...rows.at(-1)!.data,
      status: 'AUTHORIZED',
      captured_amount: 0,
      version: 2,
      updated_at: expect.any(String),
    });
    const { rows: captures } = await t.database.db.query(
      `SELECT amount, status FROM captures WHERE payment_id = $1`,
      [payment.id],
    );
    expect(captures).toEqual([{ amount: 2500, status: 'SUCCEEDED' }]);
  });

  it('authorizes only with manual capture: 201 AUTHORIZED', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'manual' });
    const response = await payByApi(t, merchant, checkout.checkout_id);
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({
      status: 'AUTHORIZED',
      authorized_amount: 1000,
      captured_amount: 0,
    });
    expect((await get(t, merchant, `/v1/orders/${checkout.order.order_id}`)).json().status).toBe(
      'AUTHORIZED',
    );
  });

  it('answers a decline with 201 REJECTED and its decline_code; the checkout stays open for another try', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic' });
    const declined = await payByApi(t, merchant, checkout.checkout_id, cardMethod(TEST_CARDS.declined));
    expect(declined.statusCode).toBe(201);
    expect(declined.json()).toMatchObject({
      status: 'REJECTED',
      decline_code: 'card_declined',
      captured_amount: 0,
    });
    const poor = await payByApi(t, merchant, checkout.checkout_id, cardMethod(TEST_CARDS.insufficientFunds));
    expect(poor.json()).toMatchObject({ status: 'REJECTED', decline_code: 'insufficient_funds' });
    const failed = await payByApi(t, merchant, checkout.checkout_id, cardMethod(TEST_CARDS.processorError));
    expect(failed.json()).toMatchObject({ status: 'REJECTED' });
    expect(failed.json().failure_message).toBeTruthy();

    const approved = await payByApi(t, merchant, checkout.checkout_id);
    expect(approved.json()).toMatchObject({ status: 'SUCCEEDED' });
    const list = await get(t, merchant, `/v1/orders/${checkout.order.order_id}/payments`);
    // Newest first, like every list (docs/api-conventions.md §7): the approved attempt came last.
    expect(list.json().data.map((p: PaymentJson) => p.status)).toEqual([
      'SUCCEEDED',
      'REJECTED',
      'REJECTED',
      'REJECTED',
    ]);
  });

  it('returns REQUIRES_ACTION with a redirect for 3-D Secure; the return URL is the hosted page return route', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic' });
    const response = await payByApi(t, merchant, checkout.checkout_id, cardMethod(TEST_CARDS.threeDSecure));
    expect(response.statusCode).toBe(201);
    const payment = response.json<PaymentJson>();
    expect(payment.status).toBe('REQUIRES_ACTION');
    expect(payment.next_action).toEqual({
      type: 'redirect',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/sandbox\/3ds\/sbx_/),
    });

    const reference = await sandboxReference(payment.id);
    const atBank = await t.services.sandbox.findPayment(reference);
    const signature = checkoutUrlSignature(t.services.keyring, checkout.checkout_id);
    expect(atBank?.returnUrl).toBe(
      `${t.config.publicUrl}/pay/${checkout.checkout_id}/${signature}/return/${payment.id}`,
    );

    // The shopper passes the challenge; the processor's notification settles the payment (and captures it).
    await t.services.sandbox.completeChallenge(reference, 'pass');
    expect((await get(t, merchant, `/v1/payments/${payment.id}`)).json()).toMatchObject({
      status: 'SUCCEEDED',
      captured_amount: 1000,
    });
  });

  it('answers PENDING for a card the processor decides later, and for an invoice', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'manual' });
    const pending = await payByApi(t, merchant, checkout.checkout_id, cardMethod(TEST_CARDS.pending));
    expect(pending.statusCode).toBe(201);
    expect(pending.json()).toMatchObject({ status: 'PENDING', processing: false });
    expect((await get(t, merchant, `/v1/orders/${checkout.order.order_id}`)).json().status).toBe('PENDING');

    const invoiceCheckout = await createPaymentCheckout(t, merchant, {
      currency: 'DKK',
      amount: 50_000,
      customerEmail: 'ada@example.com',
    });
    const invoice = await payByApi(t, merchant, invoiceCheckout.checkout_id, { type: 'invoice' });
    expect(invoice.statusCode).toBe(201);
    const payment = invoice.json<PaymentJson>();
    expect(payment).toMatchObject({ status: 'PENDING', method: 'invoice', card: null });
    await t.services.sandbox.resolvePending(await sandboxReference(payment.id), 'SUCCEEDED');
    expect((await get(t, merchant, `/v1/payments/${payment.id}`)).json().status).toBe('AUTHORIZED');
  });

  it('offers a wallet only where it is eligible (mobile)', async () => {
    const checkout = await createPaymentCheckout(t, merchant);
    const desktop = await t.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: merchant.headers,
      payload: { checkout_id: checkout.checkout_id, payment_method: { type: 'wallet' }, device: 'desktop' },
    });
    expect(desktop.statusCode).toBe(422);
    expect(expectProblem(desktop).code).toBe('payment_method_not_available');
    const mobile = await t.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: merchant.headers,
      payload: { checkout_id: checkout.checkout_id, payment_method: { type: 'wallet' }, device: 'mobile' },
    });
    expect(mobile.statusCode).toBe(201);
    expect(mobile.json()).toMatchObject({
      status: 'REQUIRES_ACTION',
      next_action: { url: expect.stringContaining('/sandbox/wallet/') },
    });
  });

  it('checks card data server-side with a pointer per field, before anything reaches the processor', async () => {
    const checkout = await createPaymentCheckout(t, merchant);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ number: '4242424242424241' }, '/payment_method/card/number', 'invalid_card_number'],
      [{ number: '4242 4242' }, '/payment_method/card/number', 'invalid_card_number'],
      [{ number: 'abcd-efgh-ijkl-mnop' }, '/payment_method/card/number', 'invalid_card_number'],
      [{ exp_month: 13 }, '/payment_method/card/exp_month', 'invalid_expiry'],
      [{ exp_year: 2020 }, '/payment_method/card/exp_year', 'card_expired'],
      [{ cvc: '12' }, '/payment_method/card/cvc', 'invalid_cvc'],
      [{ number: '378282246310005', cvc: '123' }, '/payment_method/card/cvc', 'invalid_cvc'],
      [{ holder_name: '   ' }, '/payment_method/card/holder_name', 'required'],
    ];
    for (const [overrides, pointer, code] of cases) {
      const response = await payByApi(
        t,
        merchant,
        checkout.checkout_id,
        cardMethod(TEST_CARDS.approved, overrides),
      );
      expect(response.statusCode, JSON.stringify(overrides)).toBe(422);
      const problem = expectProblem(response);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors).toContainEqual(expect.objectContaining({ pointer, code }));
    }
    const several = await payByApi(
      t,
      merchant,
      checkout.checkout_id,
      cardMethod('4242424242424241', { cvc: 'x', exp_month: 0 }),
    );
    expect(
      expectProblem(several)
        .errors?.map((error) => error.pointer)
        .sort(),
    ).toEqual(['/payment_method/card/cvc', '/payment_method/card/exp_month', '/payment_method/card/number']);
    expect(await t.services.sandbox.countOperations({ kind: 'authorize' })).toBeGreaterThan(0); // earlier tests
    const { rows } = await t.database.db.query('SELECT 1 FROM payments WHERE checkout_id = $1', [
      checkout.checkout_id,
    ]);
    expect(rows).toHaveLength(0);
  });

  it('refuses a payment_method that is not exactly one way to pay', async () => {
    const checkout = await createPaymentCheckout(t, merchant);
    const cases: Array<[unknown, string]> = [
      [{}, '/payment_method/type'],
      [{ type: 'card' }, '/payment_method/card'],
      [{ ...cardMethod(), saved_payment_method_id: 'pm_x' }, '/payment_method/saved_payment_method_id'],
      [{ type: 'wallet', card: cardMethod().card }, '/payment_method/card'],
      [{ type: 'bitcoin' }, '/payment_method/type'],
      [{ type: 'card', card: { number: TEST_CARDS.approved } }, '/payment_method/card/exp_month'],
    ];
    for (const [method, pointer] of cases) {
      const response = await payByApi(t, merchant, checkout.checkout_id, method);
      expect(response.statusCode, JSON.stringify(method)).toBe(422);
      expect(expectProblem(response).errors?.map((error) => error.pointer)).toContain(pointer);
    }
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: merchant.headers,
      payload: { payment_method: cardMethod() },
    });
    expect(expectProblem(missing).errors?.[0]?.pointer).toBe('/checkout_id');
  });

  it('refuses checkouts that cannot be paid: unknown, another merchant’s, already paid', async () => {
    const unknown = await payByApi(t, merchant, 'chk_00000000000000000000000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(expectProblem(unknown).code).toBe('not_found');

    const stranger = await t.createMerchant({ name: 'Stranger' });
    const foreign = await createPaymentCheckout(t, stranger);
    const notMine = await payByApi(t, merchant, foreign.checkout_id);
    expect(notMine.statusCode).toBe(404);
    expect(expectProblem(notMine).code).toBe('not_found');

    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic' });
    expect((await payByApi(t, merchant, checkout.checkout_id)).statusCode).toBe(201);
    const again = await payByApi(t, merchant, checkout.checkout_id);
    expect(again.statusCode).toBe(409);
    expect(expectProblem(again)).toMatchObject({
      code: 'invalid_state_transition',
      current_status: 'COMPLETED',
      allowed_statuses: ['OPEN'],
    });
  });

  it('replays a retried request with the same Idempotency-Key: one payment, one authorization at the processor', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic' });
    const headers = { 'idempotency-key': `pay-${checkout.checkout_id}` };
    const first = await payByApi(t, merchant, checkout.checkout_id, cardMethod(), headers);
    const second = await payByApi(t, merchant, checkout.checkout_id, cardMethod(), headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
    expect(first.json().id).toBe(
      paymentIdForIdempotencyKey(merchant, checkout.checkout_id, headers['idempotency-key']),
    );
    expect(await t.services.sandbox.countOperations({ kind: 'authorize', paymentId: first.json().id })).toBe(
      1,
    );

    const otherCard = await payByApi(
      t,
      merchant,
      checkout.checkout_id,
      cardMethod('5555555555554444'),
      headers,
    );
    expect(otherCard.statusCode).toBe(422);
    expect(expectProblem(otherCard).code).toBe('idempotency_key_reused');
  });

  it('resumes a payment interrupted after the processor charged (lost answer): exactly one charge', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic' });
    const key = `crash-${checkout.checkout_id}`;
    const paymentId = paymentIdForIdempotencyKey(merchant, checkout.checkout_id, key);
    // First attempt: the processor records the authorization but its answer never arrives (like a crash
    // between the processor call and the settle), so the payment is left "processing".
    t.services.sandbox.setFaults({ timeoutMs: 5 });
    const interrupted = await t.services.payments.payCheckout({
      scope: merchant,
      checkoutId: checkout.checkout_id,
      paymentId,
      channel: 'api',
      method: {
        type: 'card',
        card: { number: TEST_CARDS.approved, expMonth: 12, expYear: 2034, cvc: '123', holderName: 'Ada' },
      },
      device: 'desktop',
      returnUrl: () => `${t.config.publicUrl}/return`,
    });
    t.services.sandbox.setFaults({});
    expect(interrupted.outcome).toBe('processing');
    expect(await t.services.sandbox.countOperations({ kind: 'authorize', paymentId })).toBe(1);

    // The client retries with the same key: the same payment resumes; the processor replays its answer.
    const retry = await payByApi(t, merchant, checkout.checkout_id, cardMethod(), { 'idempotency-key': key });
    expect(retry.statusCode).toBe(201);
    expect(retry.json()).toMatchObject({ id: paymentId, status: 'SUCCEEDED', captured_amount: 1000 });
    expect(await t.services.sandbox.countOperations({ kind: 'authorize', paymentId })).toBe(1);
    expect(await t.services.sandbox.countOperations({ kind: 'capture', paymentId })).toBe(1);
    const { rows } = await t.database.db.query('SELECT id FROM payments WHERE checkout_id = $1', [
      checkout.checkout_id,
    ]);
    expect(rows).toEqual([{ id: paymentId }]);
  });

  it('answers 202 with a processing payment when the processor does not answer; recovery settles it', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'manual' });
    t.services.sandbox.setFaults({ timeoutMs: 5 });
    const response = await payByApi(t, merchant, checkout.checkout_id);
    t.services.sandbox.setFaults({});
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ status: 'PENDING', processing: true });
  });

  describe('saved cards', () => {
    it('charges a card the customer saved, as a stored credential; another customer’s card is unknown', async () => {
      const checkout = await createPaymentCheckout(t, merchant, {
        capture: 'automatic',
        customerEmail: 'grace@example.com',
      });
      const customerId = checkout.order.customer!.customer_id;
      const saved = await t.database.db.transaction((tx) =>
        saveCard(tx, t.services, merchant, customerId, {
          number: '5555555555554444',
          expMonth: 1,
          expYear: 2035,
          cvc: '',
          holderName: 'Grace Hopper',
        }),
      );
      const response = await payByApi(t, merchant, checkout.checkout_id, {
        saved_payment_method_id: saved.id,
      });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({
        status: 'SUCCEEDED',
        saved_payment_method_id: saved.id,
        card: { brand: 'mastercard', last4: '4444', exp_month: 1, exp_year: 2035 },
      });

      const other = await createPaymentCheckout(t, merchant, { customerEmail: 'someone-else@example.com' });
      const foreign = await payByApi(t, merchant, other.checkout_id, { saved_payment_method_id: saved.id });
      expect(foreign.statusCode).toBe(404);
      expect(expectProblem(foreign).code).toBe('not_found');
      const anonymous = await createPaymentCheckout(t, merchant);
      const none = await payByApi(t, merchant, anonymous.checkout_id, {
        type: 'card',
        saved_payment_method_id: 'pm_00000000000000000000000000000000',
      });
      expect(none.statusCode).toBe(404);
      expectProblem(none);
    });
  });
});
