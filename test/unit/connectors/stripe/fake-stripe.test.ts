import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { STRIPE_API_VERSION } from '../../../../src/connectors/stripe/index.ts';
import { parseStripeForm, startFakeStripe, type FakeStripe } from '../../../fakes/stripe/fake-stripe.ts';

/** The fake is only worth something if it refuses what Stripe refuses: these are the checks the tests rely on. */
let fake: FakeStripe;
beforeAll(async () => {
  fake = await startFakeStripe({ apiVersion: STRIPE_API_VERSION });
});
afterAll(async () => {
  await fake?.close();
});

const VALID =
  'amount=1000&currency=eur&confirm=true&capture_method=manual&return_url=http%3A%2F%2F127.0.0.1%2Fback' +
  '&payment_method_data[type]=card&payment_method_data[card][number]=4242424242424242' +
  '&payment_method_data[card][exp_month]=12&payment_method_data[card][exp_year]=2040' +
  '&payment_method_data[card][cvc]=123&metadata[kassa_payment_id]=pay_1';

async function post(body: string, headers: Record<string, string> = {}, path = '/v1/payment_intents') {
  const response = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${fake.secretKey}`,
      'stripe-version': STRIPE_API_VERSION,
      'content-type': 'application/x-www-form-urlencoded',
      'idempotency-key': `k-${Math.random()}`,
      ...headers,
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error?: { message: string } } };
}

describe('the fake Stripe checks requests like Stripe', () => {
  it('accepts a well-formed PaymentIntent and records no violation', async () => {
    const answer = await post(VALID);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      object: 'payment_intent',
      status: 'requires_capture',
      currency: 'eur',
    });
    expect(fake.violations).toEqual([]);
  });

  it.each([
    ['an upper-case currency', VALID.replace('currency=eur', 'currency=EUR'), /currency/],
    ['a decimal amount', VALID.replace('amount=1000', 'amount=10.00'), /Invalid integer/],
    ['a missing amount', VALID.replace('amount=1000&', ''), /Missing required param: amount/],
    ['an unknown parameter', `${VALID}&payment_method_types[0]=card`, /unknown parameter/],
    ['a repeated parameter', `${VALID}&amount=5`, /repeated/],
    ['a confirmation without return_url', VALID.replace(/&return_url=[^&]+/, ''), /return_url/],
  ])('refuses %s with a 400 and records it', async (_name, body, message) => {
    const before = fake.violations.length;
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(fake.violations.length).toBe(before + 1);
    expect(fake.violations.at(-1)).toMatch(message);
  });

  it('records JSON bodies, a wrong Stripe-Version and a POST without Idempotency-Key', async () => {
    const before = fake.violations.length;
    expect((await post('{"amount":1000}', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await post(VALID, { 'stripe-version': '2020-08-27' })).status).toBe(400);
    await fetch(`${fake.url}/v1/payment_intents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${fake.secretKey}`,
        'stripe-version': STRIPE_API_VERSION,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: VALID,
    });
    expect(fake.violations.slice(before).join('\n')).toMatch(
      /x-www-form-urlencoded[\s\S]*Stripe-Version[\s\S]*no Idempotency-Key/,
    );
    fake.violations.length = 0;
  });

  it('refuses another secret key with 401', async () => {
    expect((await post(VALID, { authorization: 'Bearer sk_test_other' })).status).toBe(401);
  });

  it('replays the first answer for a key, and refuses the key with other parameters', async () => {
    const key = 'same-key';
    const first = await post(VALID, { 'idempotency-key': key });
    const again = await post(VALID, { 'idempotency-key': key });
    expect(again.body).toEqual(first.body);
    const other = await post(VALID.replace('amount=1000', 'amount=1001'), { 'idempotency-key': key });
    expect(other.status).toBe(400);
    expect(other.body.error?.message).toMatch(/same parameters/);
    expect(
      fake.intentsFor('pay_1').filter((intent) => intent.id === (first.body as { id: string }).id),
    ).toHaveLength(1);
  });

  it('parses Stripe form encoding into nested parameters', () => {
    expect(parseStripeForm('a=1&b[c]=2&b[d][e]=x%20y&expand[0]=latest_charge')).toEqual({
      params: { a: '1', b: { c: '2', d: { e: 'x y' } }, expand: { '0': 'latest_charge' } },
      errors: [],
    });
  });
});
