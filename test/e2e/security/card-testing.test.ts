import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  alertOf,
  CARDS,
  cardForm,
  countAuthorizations,
  createHostedCheckout,
  csrfOf,
  formBody,
} from '../hosted-page/hosted-fixtures.ts';
import { createLink, linkRequest } from '../payment-links/payment-link-fixtures.ts';

/**
 * Card-testing limits (src/modules/payments/attempt-limits.ts): declines per checkout (then the checkout is
 * canceled), per client address and per card fingerprint, counted in PostgreSQL — exercised with real
 * parallel HTTP requests on loopback against the real database.
 */

const TOO_MANY = 'Too many declined payment attempts. Nothing was charged. Try again later.';

async function eventsOfType(t: TestApp, type: string) {
  const { rows } = await t.database.db.query<{ checkout_id: string; data: Record<string, unknown> }>(
    'SELECT checkout_id, data FROM events WHERE type = $1 ORDER BY seq',
    [type],
  );
  return rows;
}

/** The hosted page over real HTTP: load it, then submit the card form. */
async function payOnPage(t: TestApp, pageUrl: string, number: string) {
  const page = await fetch(pageUrl);
  const html = await page.text();
  const response = await fetch(pageUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: formBody(cardForm(csrfOf(html), number)),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    html: await response.text(),
  };
}

function processorApiPayment(
  t: TestApp,
  merchant: TestMerchant,
  checkoutId: string,
  number: string,
  idempotencyKey?: string,
) {
  return fetch(`${t.baseUrl}/v1/payments`, {
    method: 'POST',
    headers: {
      ...merchant.headers,
      'content-type': 'application/json',
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    body: JSON.stringify({
      checkout_id: checkoutId,
      payment_method: {
        type: 'card',
        card: { number, exp_month: 12, exp_year: 2040, cvc: '123', holder_name: 'Ada Lovelace' },
      },
    }),
  });
}

describe('card testing: per checkout and per card', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp({
      listen: true,
      env: {
        KASSA_CARD_DECLINES_PER_CHECKOUT: '3',
        KASSA_CARD_DECLINES_PER_CARD: '5',
        KASSA_CARD_DECLINES_PER_ADDRESS: '0',
        // The sandbox serves test mode only; the address and card limits count there when asked to
        // (live mode always counts: card-testing-modes.test.ts).
        KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE: 'true',
      },
    });
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the decline that reaches the per-checkout limit cancels the checkout (too_many_declines, checkout.canceled)', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const url = `${t.baseUrl}${checkout.path}`;
    const before = await countAuthorizations(t);
    // Other declining cards, so the per-card limit is not what stops them.
    expect((await payOnPage(t, url, CARDS.declined)).status).toBe(402);
    expect((await payOnPage(t, url, CARDS.declined)).status).toBe(402);
    // The third decline is the last: the shopper gets the canceled page.
    const third = await payOnPage(t, url, CARDS.declined);
    expect(third.status).toBe(409);
    expect(third.html).toContain('canceled');
    const resource = await t.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${checkout.checkoutId}`,
      headers: merchant.headers,
    });
    expect(resource.json()).toMatchObject({ status: 'CANCELED', cancellation_reason: 'too_many_declines' });
    const canceled = await eventsOfType(t, 'checkout.canceled');
    expect(canceled.filter((event) => event.checkout_id === checkout.checkoutId)).toHaveLength(1);
    expect(canceled.find((event) => event.checkout_id === checkout.checkoutId)!.data).toMatchObject({
      cancellation_reason: 'too_many_declines',
    });
    // The session is over: a fourth attempt reaches no processor.
    const fourth = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody(cardForm('o1.0.x', CARDS.approved)),
    });
    expect(fourth.status).toBe(409);
    expect(await countAuthorizations(t)).toBe(before + 3);
  });

  it('a card at its limit of declines: 40 parallel Processor API attempts on 40 checkouts all 429 too_many_attempts', async () => {
    // Five declines of one card (written with spaces: the fingerprint is of the digits), each on its own checkout.
    for (let i = 0; i < 5; i += 1) {
      const checkout = await createHostedCheckout(t, merchant);
      const declined = await processorApiPayment(t, merchant, checkout.checkoutId, '4000 0000 0000 9995');
      expect(declined.status).toBe(201);
      expect(await declined.json()).toMatchObject({ status: 'REJECTED' });
    }
    const checkouts = await Promise.all(Array.from({ length: 40 }, () => createHostedCheckout(t, merchant)));
    const before = await countAuthorizations(t);
    const responses = await Promise.all(
      checkouts.map((checkout) =>
        processorApiPayment(t, merchant, checkout.checkoutId, CARDS.insufficientFunds),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses).toEqual(Array(40).fill(429));
    const refused = responses.find((response) => response.status === 429)!;
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ code: 'too_many_attempts', limit: 'card' });
    expect(await countAuthorizations(t)).toBe(before);

    // The merchant hears of it once for the window, not 35 times.
    const limited = await eventsOfType(t, 'checkout.attempts_limited');
    expect(limited).toHaveLength(1);
    expect(limited[0]!.data).toMatchObject({
      object: 'checkout',
      attempt_limit: { limit: 'card', channel: 'api' },
    });
    // No card number in the counters: the key is the keyed fingerprint.
    const { rows } = await t.database.db.query<{ key: string }>('SELECT key FROM card_attempt_limits');
    expect(rows.map((row) => row.key).join(' ')).not.toContain('9995');
  });

  it('approved payments are not counted: 30 parallel payments of one good card all go through', async () => {
    const checkouts = await Promise.all(Array.from({ length: 30 }, () => createHostedCheckout(t, merchant)));
    const responses = await Promise.all(
      checkouts.map((checkout) => processorApiPayment(t, merchant, checkout.checkoutId, CARDS.approved)),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(30).fill(201));
  });
});

describe('card testing: per client address, on the hosted page and a reusable payment link', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp({
      listen: true,
      env: {
        KASSA_CARD_DECLINES_PER_CHECKOUT: '0',
        KASSA_CARD_DECLINES_PER_CARD: '0',
        KASSA_CARD_DECLINES_PER_ADDRESS: '4',
        KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE: 'true',
      },
    });
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('an address at its limit of declines: parallel attempts on 12 checkouts all answer 429 with the page', async () => {
    const approved = await Promise.all(Array.from({ length: 10 }, () => createHostedCheckout(t, merchant)));
    // Approved payments from the address do not count, however many run at once.
    const paid = await Promise.all(
      approved.map((checkout) => payOnPage(t, `${t.baseUrl}${checkout.path}`, CARDS.approved)),
    );
    expect(paid.map((result) => result.status)).toEqual(Array(10).fill(303));
    for (let i = 0; i < 4; i += 1) {
      const checkout = await createHostedCheckout(t, merchant);
      expect((await payOnPage(t, `${t.baseUrl}${checkout.path}`, CARDS.declined)).status).toBe(402);
    }
    const checkouts = await Promise.all(Array.from({ length: 12 }, () => createHostedCheckout(t, merchant)));
    const before = await countAuthorizations(t);
    const results = await Promise.all(
      checkouts.map((checkout) => payOnPage(t, `${t.baseUrl}${checkout.path}`, CARDS.mastercard)),
    );
    const refused = results.filter((result) => result.status === 429);
    expect(refused).toHaveLength(12);
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThan(0);
    expect(alertOf(refused[0]!.html)).toBe(TOO_MANY);
    expect(await countAuthorizations(t)).toBe(before);
    expect((await eventsOfType(t, 'checkout.attempts_limited'))[0]!.data).toMatchObject({
      attempt_limit: { limit: 'client_address', channel: 'hosted_page' },
    });

    // Through a reusable payment link, the same address is still refused; nothing reaches the processor.
    const link = await createLink(t, merchant, linkRequest({ usage: 'reusable', max_completions: 50 }));
    const visit = await fetch(link.url, { redirect: 'manual' });
    const viaLink = await payOnPage(t, visit.headers.get('location')!, CARDS.approved);
    expect(viaLink.status).toBe(429);
    expect(await countAuthorizations(t)).toBe(before);
  });
});

describe('card testing: a retry of an answered request', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp({
      listen: true,
      env: {
        KASSA_CARD_DECLINES_PER_CHECKOUT: '0',
        KASSA_CARD_DECLINES_PER_CARD: '2',
        KASSA_CARD_DECLINES_PER_ADDRESS: '0',
        KASSA_CARD_DECLINE_LIMITS_IN_TEST_MODE: 'true',
      },
    });
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  const payWithKey = (checkoutId: string, key: string) =>
    processorApiPayment(t, merchant, checkoutId, CARDS.declined, key);

  it('gets its stored answer even once the card is at its limit, and reports no limit for it', async () => {
    const first = await createHostedCheckout(t, merchant);
    const second = await createHostedCheckout(t, merchant);
    expect((await payWithKey(first.checkoutId, 'retry-a')).status).toBe(201);
    const answered = await payWithKey(second.checkoutId, 'retry-b');
    expect(answered.status).toBe(201);
    const body = await answered.text();
    // The card has reached its limit; the retry of the answered request is its answer, byte for byte.
    const before = await countAuthorizations(t);
    const retried = await payWithKey(second.checkoutId, 'retry-b');
    expect(retried.status).toBe(201);
    expect(await retried.text()).toBe(body);
    expect(await eventsOfType(t, 'checkout.attempts_limited')).toHaveLength(0);
    // A new request with that card is refused, and that is reported once.
    const third = await createHostedCheckout(t, merchant);
    const refused = await payWithKey(third.checkoutId, 'retry-c');
    expect(refused.status).toBe(429);
    expect(await eventsOfType(t, 'checkout.attempts_limited')).toHaveLength(1);
    expect(await countAuthorizations(t)).toBe(before);
  });
});
