/**
 * `multiple_captures` on a processor account, end to end against the fake Adyen (test/fakes/adyen/, a real HTTP
 * server on loopback that validates every request against Adyen's OpenAPI document and decides each capture by an
 * HMAC-signed CAPTURE webhook sent back to Kassa over real HTTP).
 *
 * - An Adyen account whose merchant account has "multiple partial captures" on at Adyen says
 *   `multiple_captures: true`: several partial captures of one payment go through Adyen, up to the authorization.
 * - Without it (Adyen's default), a second capture is refused with 422 before Adyen is asked.
 * - A merchant who claims it while Adyen has it off gets the second capture FAILED by Adyen's webhook: it takes
 *   nothing.
 * - Stripe and the sandbox have a fixed answer; a different value is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ADYEN_CARDS, startFakeAdyen, type FakeAdyen } from '../../fakes/adyen/fake-adyen.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { cardMethod, paymentEvents, type PaymentJson } from '../payments/payment-fixtures.ts';

let t: TestApp;
/** Adyen with "multiple partial captures" on for the merchant account. */
let multiple: FakeAdyen;
/** Adyen as it comes: a partial capture releases the rest. */
let single: FakeAdyen;

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  [multiple, single] = await Promise.all([
    startFakeAdyen({ multiplePartialCaptures: true }),
    startFakeAdyen(),
  ]);
});
afterAll(async () => {
  await Promise.all([multiple?.close(), single?.close()]);
  await t?.close();
});

type Account = { id: string; multiple_captures: boolean; webhook_url: string; version: number };

async function call(merchant: TestMerchant, method: 'POST' | 'GET' | 'PATCH', path: string, body?: object) {
  const response = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: { ...merchant.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers),
    body: text,
    json: <T>() => JSON.parse(text) as T,
  };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return read();
}

/** A test-mode merchant with an Adyen account on `fake`, its webhook registered and its HMAC key set. */
async function connectAdyen(fake: FakeAdyen, settings: { multiple_captures?: boolean } = {}) {
  const merchant = await t.createMerchant();
  const connected = await call(merchant, 'POST', '/v1/processor-accounts', {
    processor: 'adyen',
    credentials: { api_key: fake.apiKey, merchant_account: fake.merchantAccount, hmac_key: fake.hmacKey },
    payment_methods: ['card'],
    api_base_url: fake.url,
    ...settings,
  });
  expect(connected.statusCode, connected.body).toBe(201);
  const account = connected.json<Account>();
  fake.setWebhookUrl(account.webhook_url);
  return { merchant, account };
}

async function authorizedPayment(merchant: TestMerchant, amount: number): Promise<PaymentJson> {
  const created = await call(
    merchant,
    'POST',
    '/v1/checkouts',
    checkoutRequest(simpleOrder('EUR', 'NL', amount), { capture_mode: 'manual' }),
  );
  expect(created.statusCode, created.body).toBe(201);
  const paid = await call(merchant, 'POST', '/v1/payments', {
    checkout_id: created.json<{ checkout_id: string }>().checkout_id,
    payment_method: cardMethod(FAKE_ADYEN_CARDS.authorised),
  });
  expect(paid.statusCode, paid.body).toBe(201);
  const payment = paid.json<PaymentJson>();
  expect(payment.status).toBe('AUTHORIZED');
  return payment;
}

/** Captures through the API; Adyen answers `received`, so the capture is PENDING until its webhook. */
async function capture(merchant: TestMerchant, paymentId: string, amount: number) {
  return call(merchant, 'POST', `/v1/payments/${paymentId}/capture`, { amount });
}

async function captureStatuses(paymentId: string): Promise<string[]> {
  const { rows } = await t.database.db.query<{ status: string }>(
    'SELECT status FROM captures WHERE payment_id = $1 ORDER BY created_at',
    [paymentId],
  );
  return rows.map((row) => row.status);
}

async function settled(paymentId: string): Promise<string[]> {
  return until(
    () => captureStatuses(paymentId),
    (statuses) => !statuses.includes('PENDING'),
  );
}

async function paymentOf(merchant: TestMerchant, paymentId: string): Promise<PaymentJson> {
  return (await call(merchant, 'GET', `/v1/payments/${paymentId}`)).json<PaymentJson>();
}

const captureRequests = (fake: FakeAdyen) =>
  fake.requests.filter((request) => request.path.endsWith('/captures')).length;

describe('multiple partial captures through Adyen', () => {
  it('an account with multiple_captures takes several partial captures, each decided by its webhook', async () => {
    const { merchant, account } = await connectAdyen(multiple, { multiple_captures: true });
    expect(account.multiple_captures).toBe(true);
    expect((await call(merchant, 'GET', `/v1/processor-accounts/${account.id}`)).json()).toMatchObject({
      multiple_captures: true,
    });
    const payment = await authorizedPayment(merchant, 3000);
    const before = captureRequests(multiple);

    for (const [amount, capturedAfter] of [
      [1000, 1000],
      [1200, 2200],
    ] as const) {
      const answer = await capture(merchant, payment.id, amount);
      expect(answer.statusCode, answer.body).toBe(202);
      expect(answer.json()).toMatchObject({ status: 'PENDING', amount });
      await settled(payment.id);
      expect(await paymentOf(merchant, payment.id)).toMatchObject({ captured_amount: capturedAfter });
    }
    // More than what is left: refused by Kassa, before Adyen.
    const tooMuch = await capture(merchant, payment.id, 900);
    expect(expectProblem(tooMuch)).toMatchObject({ status: 422, code: 'amount_exceeds_capturable' });
    expect(tooMuch.json()).toMatchObject({ capturable_amount: 800 });
    expect(captureRequests(multiple)).toBe(before + 2);

    const last = await capture(merchant, payment.id, 800);
    expect(last.statusCode, last.body).toBe(202);
    expect(await settled(payment.id)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(await paymentOf(merchant, payment.id)).toMatchObject({
      status: 'SUCCEEDED',
      captured_amount: 3000,
    });
    const atAdyen = [...multiple.payments.values()].find((p) => p.merchantReference === payment.id)!;
    expect(atAdyen.captured).toBe(3000);
    expect(captureRequests(multiple)).toBe(before + 3);
    const types = (await paymentEvents(t, payment.id)).map((row) => row.type);
    expect(types.filter((type) => type === 'payment.captured')).toHaveLength(3);

    await multiple.drain();
    expect(multiple.violations).toEqual([]);
  });

  it('without it, a second capture is refused before Adyen; claiming it while Adyen has it off takes nothing', async () => {
    const { merchant, account } = await connectAdyen(single);
    expect(account.multiple_captures).toBe(false);
    const payment = await authorizedPayment(merchant, 3000);
    expect((await capture(merchant, payment.id, 1000)).statusCode).toBe(202);
    expect(await settled(payment.id)).toEqual(['SUCCEEDED']);
    const requests = captureRequests(single);

    const second = await capture(merchant, payment.id, 1000);
    expect(expectProblem(second)).toMatchObject({ status: 422, code: 'amount_exceeds_capturable' });
    expect(second.json()).toMatchObject({ capturable_amount: 0 });
    expect(captureRequests(single)).toBe(requests);

    // The merchant says multiple partial captures are on, but Adyen has them off: Adyen refuses the capture in
    // its CAPTURE webhook, and the capture ends FAILED with nothing captured.
    const claimed = await call(merchant, 'PATCH', `/v1/processor-accounts/${account.id}`, {
      multiple_captures: true,
    });
    expect(claimed.json()).toMatchObject({ multiple_captures: true, version: account.version + 1 });
    const refusedByAdyen = await capture(merchant, payment.id, 1000);
    expect(refusedByAdyen.statusCode, refusedByAdyen.body).toBe(202);
    expect(await settled(payment.id)).toEqual(['SUCCEEDED', 'FAILED']);
    expect(captureRequests(single)).toBe(requests + 1);
    expect(await paymentOf(merchant, payment.id)).toMatchObject({ captured_amount: 1000 });
    expect([...single.payments.values()].find((p) => p.merchantReference === payment.id)!.captured).toBe(
      1000,
    );

    // Turned off again: refused before Adyen once more.
    const off = await call(merchant, 'PATCH', `/v1/processor-accounts/${account.id}`, {
      multiple_captures: false,
    });
    expect(off.json()).toMatchObject({ multiple_captures: false });
    const third = await capture(merchant, payment.id, 500);
    expect(expectProblem(third)).toMatchObject({ status: 422, code: 'amount_exceeds_capturable' });
    expect(captureRequests(single)).toBe(requests + 1);

    const { rows } = await t.database.db.query<{ type: string; data: { multiple_captures: boolean } }>(
      `SELECT type, data FROM events WHERE object_id = $1 ORDER BY object_version`,
      [account.id],
    );
    expect(rows.map((row) => [row.type, row.data.multiple_captures])).toEqual([
      ['processor_account.created', false],
      ['processor_account.updated', true],
      ['processor_account.updated', false],
    ]);
    await single.drain();
    expect(single.violations).toEqual([]);
  });

  it('Stripe and the sandbox answer their fixed value and refuse another', async () => {
    const merchant = await t.createMerchant();
    const sandbox = await call(merchant, 'POST', '/v1/processor-accounts', {
      processor: 'sandbox',
      credentials: {},
      payment_methods: ['card'],
    });
    expect(sandbox.json()).toMatchObject({ multiple_captures: true });
    const sandboxOff = await call(merchant, 'PATCH', `/v1/processor-accounts/${sandbox.json<Account>().id}`, {
      multiple_captures: false,
    });
    expect(expectProblem(sandboxOff).errors).toEqual([
      expect.objectContaining({ pointer: '/multiple_captures', code: 'unsupported' }),
    ]);

    const stripe = {
      processor: 'stripe',
      credentials: { secret_key: 'sk_test_51MultipleCaptures0001' },
      payment_methods: ['card'],
    };
    const stripeOn = await call(merchant, 'POST', '/v1/processor-accounts', {
      ...stripe,
      multiple_captures: true,
    });
    expect(expectProblem(stripeOn).errors).toEqual([
      expect.objectContaining({ pointer: '/multiple_captures', code: 'unsupported' }),
    ]);
    const stripeAccount = await call(merchant, 'POST', '/v1/processor-accounts', {
      ...stripe,
      multiple_captures: false,
    });
    expect(stripeAccount.statusCode, stripeAccount.body).toBe(201);
    expect(stripeAccount.json()).toMatchObject({ multiple_captures: false });

    const notBoolean = await call(merchant, 'PATCH', `/v1/processor-accounts/${sandbox.json<Account>().id}`, {
      multiple_captures: 'yes',
    });
    expect(notBoolean.statusCode).toBe(422);
  });
});
