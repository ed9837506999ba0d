/**
 * A live-mode journey on a development gateway against the fake Adyen (test/fakes/adyen/, a real HTTP server
 * on loopback that validates every request against Adyen's OpenAPI document): a live processor account → a
 * live checkout → a payment → capture → partial refund, with Adyen's HMAC-signed webhooks deciding the capture
 * and the refund over real HTTP. Nothing leaves the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  signAdyenNotificationItem,
  type AdyenNotificationItem,
} from '../../../src/connectors/adyen/adyen.webhook.ts';
import { FAKE_ADYEN_CARDS, startFakeAdyen, type FakeAdyen } from '../../fakes/adyen/fake-adyen.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { cardMethod, paymentEvents, type PaymentJson } from '../payments/payment-fixtures.ts';

let t: TestApp;
let adyen: FakeAdyen;
let live: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ listen: true, env: { KASSA_ENV: 'development' } });
  adyen = await startFakeAdyen({ live: true, merchantAccount: 'NordlysLiveECOM' });
  live = await t.createMerchant({ livemode: true, name: 'Live Adyen journey shop' });
});
afterAll(async () => {
  await adyen?.close();
  await t?.close();
});

async function call(method: 'POST' | 'GET' | 'PATCH', path: string, body?: object) {
  const response = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: { ...live.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
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

describe('live mode through Adyen (fake, on loopback)', () => {
  it('a live checkout is refused until a live Adyen account is connected; then pays, captures and refunds', async () => {
    const refused = await call('POST', '/v1/checkouts', checkoutRequest(simpleOrder('EUR', 'NL', 4200)));
    expect(expectProblem(refused)).toMatchObject({ status: 422, code: 'no_processor' });

    const credentials = { api_key: adyen.apiKey, merchant_account: adyen.merchantAccount };
    // A live Adyen account needs the prefix of its live endpoints.
    const noPrefix = await call('POST', '/v1/processor-accounts', {
      processor: 'adyen',
      credentials,
      payment_methods: ['card'],
      api_base_url: adyen.url,
    });
    expect(expectProblem(noPrefix).errors?.[0]).toMatchObject({ pointer: '/credentials/live_url_prefix' });

    const connected = await call('POST', '/v1/processor-accounts', {
      processor: 'adyen',
      credentials: { ...credentials, live_url_prefix: '1797a841fbb37ca7-NordlysDemo' },
      payment_methods: ['card'],
      currencies: ['EUR'],
      api_base_url: adyen.url,
    });
    expect(connected.statusCode, connected.body).toBe(201);
    const account = connected.json<{
      id: string;
      livemode: boolean;
      webhook_url: string;
      credentials: Record<string, string>;
    }>();
    expect(account.livemode).toBe(true);
    // The key is never answered again: its last 4 characters only.
    expect(account.credentials).toMatchObject({ merchant_account: 'NordlysLiveECOM' });
    expect(account.credentials.api_key).toMatch(new RegExp(`…${adyen.apiKey.slice(-4)}$`));
    expect(connected.body).not.toContain(adyen.apiKey);
    expect(account.webhook_url).toBe(`${t.baseUrl}/v1/processor-webhooks/${account.id}`);
    // The merchant creates the Standard webhook at Adyen, which then shows its HMAC key; until Kassa has it,
    // the account's webhooks are refused.
    adyen.setWebhookUrl(account.webhook_url);
    const secretSet = await call('PATCH', `/v1/processor-accounts/${account.id}`, {
      credentials: { hmac_key: adyen.hmacKey },
    });
    expect(secretSet.json()).toMatchObject({ webhook_secret_set: true });

    const created = await call(
      'POST',
      '/v1/checkouts',
      checkoutRequest(simpleOrder('EUR', 'NL', 4200), { capture_mode: 'manual' }),
    );
    expect(created.statusCode, created.body).toBe(201);
    const checkoutId = created.json<{ checkout_id: string }>().checkout_id;

    const paid = await call('POST', '/v1/payments', {
      checkout_id: checkoutId,
      payment_method: cardMethod(FAKE_ADYEN_CARDS.authorised),
    });
    expect(paid.statusCode, paid.body).toBe(201);
    const payment = paid.json<PaymentJson>();
    expect(payment).toMatchObject({ status: 'AUTHORIZED', livemode: true, amount: 4200 });
    const { rows } = await t.database.db.query<{ connector_id: string; connector_reference: string }>(
      'SELECT connector_id, connector_reference FROM payments WHERE id = $1',
      [payment.id],
    );
    expect(rows[0]!.connector_id).toBe(account.id);
    const atAdyen = () => adyen.payments.get(rows[0]!.connector_reference)!;
    expect(atAdyen()).toMatchObject({
      merchantReference: payment.id,
      state: 'Authorised',
      amount: { currency: 'EUR', value: 4200 },
    });
    expect(atAdyen().request).toMatchObject({
      merchantAccount: 'NordlysLiveECOM',
      shopperInteraction: 'Ecommerce',
      additionalData: { manualCapture: 'true' },
    });

    // Adyen's capture answers `received`: PENDING until the CAPTURE webhook.
    const captured = await call('POST', `/v1/payments/${payment.id}/capture`, { amount: 4200 });
    expect(captured.statusCode, captured.body).toBe(202);
    expect(captured.json()).toMatchObject({ status: 'PENDING', amount: 4200 });
    const afterCapture = await until(
      async () => (await call('GET', `/v1/payments/${payment.id}`)).json<PaymentJson>(),
      (current) => current.captured_amount === 4200,
    );
    expect(afterCapture).toMatchObject({ status: 'SUCCEEDED', captured_amount: 4200 });

    const refund = await call('POST', `/v1/payments/${payment.id}/refunds`, { amount: 1200 });
    expect(refund.statusCode, refund.body).toBe(202);
    expect(refund.json()).toMatchObject({ status: 'PENDING', amount: 1200 });
    const afterRefund = await until(
      async () => (await call('GET', `/v1/payments/${payment.id}`)).json<PaymentJson>(),
      (current) => current.refunded_amount === 1200,
    );
    expect(afterRefund).toMatchObject({ status: 'SUCCEEDED', captured_amount: 4200, refunded_amount: 1200 });
    expect(atAdyen()).toMatchObject({ captured: 4200, refunded: 1200 });

    // Every notification was live, signed, stored once and applied.
    await adyen.drain();
    expect(adyen.sent.map((request) => request.live)).toEqual(adyen.sent.map(() => 'true'));
    const stored = async () =>
      (
        await t.database.db.query<{ event_id: string; applied_at: Date | null }>(
          'SELECT event_id, applied_at FROM processor_notifications WHERE processor_account_id = $1',
          [account.id],
        )
      ).rows;
    const applied = await until(stored, (notifications) =>
      notifications.every((row) => row.applied_at !== null),
    );
    // AUTHORISATION, CAPTURE, REFUND.
    expect(applied).toHaveLength(3);

    // A duplicate delivery is acknowledged and changes nothing; a forged one is refused.
    await adyen.redeliver(adyen.sent.length - 1);
    expect(await stored()).toHaveLength(3);
    const forged = structuredClone(adyen.sent[adyen.sent.length - 1]!);
    forged.notificationItems[0]!.NotificationRequestItem.amount.value = 4200;
    const forgedAnswer = await fetch(account.webhook_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forged),
    });
    expect(forgedAnswer.status).toBe(401);

    // Correctly signed, but from Adyen's test environment (`live: "false"`), to a live account's URL: refused
    // whole with a clear problem, not stored, not applied — although it would refund the rest of the payment.
    const lastRefund = adyen.sent[adyen.sent.length - 1]!.notificationItems[0]!.NotificationRequestItem;
    const testItem: AdyenNotificationItem = {
      ...lastRefund,
      pspReference: 'TESTENV000000001',
      amount: { currency: 'EUR', value: 3000 },
      additionalData: {},
    };
    testItem.additionalData = { hmacSignature: signAdyenNotificationItem(testItem, adyen.hmacKey) };
    const fromTestEnvironment = await fetch(account.webhook_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: testItem }] }),
    });
    expect(fromTestEnvironment.status).toBe(400);
    const mismatch = (await fromTestEnvironment.json()) as { code: string; reason: string; detail: string };
    expect(mismatch).toMatchObject({ code: 'invalid_request', reason: 'livemode_mismatch' });
    expect(mismatch.detail).toContain("Adyen's test environment");
    expect(mismatch.detail).toContain('live mode');
    expect(await stored()).toHaveLength(3);

    const after = (await call('GET', `/v1/payments/${payment.id}`)).json<PaymentJson>();
    expect(after).toMatchObject({ status: 'SUCCEEDED', captured_amount: 4200, refunded_amount: 1200 });
    const types = (await paymentEvents(t, payment.id)).map((row) => row.type);
    expect(types.filter((type) => type === 'payment.captured')).toHaveLength(1);
    expect(types.filter((type) => type === 'refund.succeeded')).toHaveLength(1);
    expect(adyen.violations).toEqual([]);
  });
});
