/**
 * Fault test: the real gateway process (`kassa serve`) is SIGKILLed after a real processor charged a card and
 * before Kassa wrote the answer down — the processor's fake (test/fakes/) has processed the payment and holds
 * its answer back, and the kill lands in that window. Kassa's row says only "processing, sent to the processor".
 * The gateway is started again on the same port (same database, same webhook URL), and:
 *
 * - Stripe: the recovery worker finds the PaymentIntent through the connector's `lookupPayment` (search by
 *   `metadata[kassa_payment_id]`), settles the payment authorized and runs the automatic capture once.
 * - Adyen, which has no lookup: its AUTHORISATION webhook, which the dead gateway never acknowledged, is
 *   delivered again (Adyen retries until it reads `[accepted]`) and settles the payment.
 *
 * Either way the merchant's server retries its request with the same Idempotency-Key and gets the same
 * payment, and the fake saw exactly one charge (one PaymentIntent / one Adyen payment) for it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STRIPE_API_VERSION } from '../../src/connectors/stripe/index.ts';
import { createMerchantWithCredentials } from '../../src/modules/merchants/merchant.service.ts';
import { startFakeStripe, STRIPE_TEST_CARDS } from '../fakes/stripe/fake-stripe.ts';
import { FAKE_ADYEN_CARDS, startFakeAdyen } from '../fakes/adyen/fake-adyen.ts';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.ts';
import { startGatewayProcess, type GatewayProcess } from '../fixtures/gateway-process.ts';
import { checkoutRequest, simpleOrder } from '../e2e/checkouts/checkout-fixtures.ts';
import { cardMethod } from '../e2e/payments/payment-fixtures.ts';
import { sleep, waitUntil, WITHOUT_CARD_TESTING_LIMITS } from './fault-fixtures.ts';

const RECOVERY_MS = 3_000;

let database: TestDatabase;
let dataDir: string;
let gateway: GatewayProcess | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-fault-processor-'));
});
afterEach(async () => {
  gateway?.child.kill('SIGKILL');
  await gateway?.exited;
  gateway = undefined;
});
afterAll(async () => {
  await database?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const env = () => ({
  DATABASE_URL: database.connectionString,
  KASSA_ENV: 'test',
  // A shorter payment lease (src/http/idempotency.ts pipelineLeaseSeconds follows these timeouts); the fakes on
  // loopback answer in milliseconds.
  KASSA_PROCESSOR_TIMEOUT_MS: '5000',
  KASSA_CALLBACK_CONNECT_TIMEOUT_MS: '500',
  KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: '1000',
  KASSA_DATA_DIR: dataDir,
  KASSA_PAYMENT_RECOVERY_MS: String(RECOVERY_MS),
  ...WITHOUT_CARD_TESTING_LIMITS,
});

/** Longer than the payment lease with this gateway's settings (see retryPayment). */
const RETRY_FOR_MS = 90_000;

type Answer = { status: number; json: Record<string, unknown> };

/** A merchant's server talking to the gateway process. */
function merchantClient(apiKey: string) {
  return async (method: 'GET' | 'POST' | 'PATCH', path: string, body?: object, key?: string) => {
    const response = await fetch(`${gateway!.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> } as Answer;
  };
}

/**
 * The merchant's server retrying its payment request with the same key, as it would after a lost answer: the
 * dead process's claim on the key holds for its lease (409 `idempotency_key_in_use`), then the retry resumes.
 * The lease outlives every step of a payment attempt (src/http/idempotency.ts `pipelineLeaseSeconds`: the
 * verify_order timeouts plus three processor calls and a margin, about 140 s with the defaults, about 40 s with
 * this file's settings), so the retry may wait that long.
 */
async function retryPayment(call: ReturnType<typeof merchantClient>, checkoutId: string, cardNumber: string) {
  for (const started = Date.now(); ;) {
    const answer = await call(
      'POST',
      '/v1/payments',
      { checkout_id: checkoutId, payment_method: cardMethod(cardNumber) },
      `pay-${checkoutId}`,
    );
    if (answer.status !== 409 || answer.json.code !== 'idempotency_key_in_use') return answer;
    if (Date.now() - started > RETRY_FOR_MS) throw new Error('the key stayed in use');
    await sleep(500);
  }
}

async function newMerchant(name: string) {
  const { credentials } = await database.db.transaction((tx) =>
    createMerchantWithCredentials(tx, { name, livemode: false, cardDataPermitted: true }),
  );
  return credentials.apiKey;
}

/** The checkout's payment row as Kassa wrote it. */
async function paymentRow(checkoutId: string) {
  const { rows } = await database.db.query<{
    id: string;
    status: string;
    connector_reference: string | null;
    processing_since: Date | null;
    captured_amount: number;
  }>(
    'SELECT id, status, connector_reference, processing_since, captured_amount FROM payments WHERE checkout_id = $1',
    [checkoutId],
  );
  return rows;
}

/**
 * Sends the payment (it will not be answered: the gateway dies), waits until the processor has processed it,
 * then kills the gateway. Returns the payment id Kassa gave it.
 */
async function payAndCrash(
  call: ReturnType<typeof merchantClient>,
  checkoutId: string,
  cardNumber: string,
  charged: (paymentId: string) => boolean,
): Promise<string> {
  const lost = call(
    'POST',
    '/v1/payments',
    { checkout_id: checkoutId, payment_method: cardMethod(cardNumber) },
    `pay-${checkoutId}`,
  ).catch((error: unknown) => error);
  let paymentId = '';
  await waitUntil(
    async () => {
      paymentId = (await paymentRow(checkoutId))[0]?.id ?? '';
      return paymentId !== '' && charged(paymentId);
    },
    15_000,
    () => 'the processor never received the payment',
  );
  gateway!.child.kill('SIGKILL');
  await gateway!.exited;
  expect(await lost).toBeInstanceOf(Error);
  // The processor charged; Kassa never recorded its answer.
  expect(await paymentRow(checkoutId)).toEqual([
    expect.objectContaining({ id: paymentId, status: 'PENDING', connector_reference: null }),
  ]);
  expect((await paymentRow(checkoutId))[0]!.processing_since).not.toBeNull();
  return paymentId;
}

describe('a crash between the processor charging and Kassa recording it', () => {
  it(
    'Stripe: the recovery worker finds the PaymentIntent (lookupPayment), captures once; one charge',
    { timeout: 180_000 },
    async () => {
      const stripe = await startFakeStripe({ apiVersion: STRIPE_API_VERSION });
      try {
        gateway = await startGatewayProcess(env());
        const port = gateway.port;
        const call = merchantClient(await newMerchant('Stripe crash shop'));
        const connected = await call('POST', '/v1/processor-accounts', {
          processor: 'stripe',
          credentials: { secret_key: stripe.secretKey },
          payment_methods: ['card'],
          api_base_url: stripe.url,
        });
        expect(connected.status, JSON.stringify(connected.json)).toBe(201);
        const created = await call(
          'POST',
          '/v1/checkouts',
          checkoutRequest(simpleOrder('EUR', 'DE', 4200), { capture_mode: 'automatic' }),
        );
        expect(created.status).toBe(201);
        const checkoutId = String(created.json.checkout_id);

        // Stripe creates the PaymentIntent, then holds its answer for a minute: the kill comes first.
        stripe.delayNext(1, 60_000);
        const paymentId = await payAndCrash(
          call,
          checkoutId,
          STRIPE_TEST_CARDS.visa,
          (id) => stripe.intentsFor(id).length > 0,
        );
        expect(stripe.intentsFor(paymentId)).toEqual([
          expect.objectContaining({ status: 'requires_capture', amount: 4200 }),
        ]);

        gateway = await startGatewayProcess(env(), { port });
        await waitUntil(
          async () => (await paymentRow(checkoutId))[0]?.status === 'SUCCEEDED',
          RECOVERY_MS * 6,
          async () => `recovery did not settle it: ${JSON.stringify(await paymentRow(checkoutId))}`,
        );
        const intent = stripe.intentsFor(paymentId)[0]!;
        expect((await paymentRow(checkoutId))[0]).toMatchObject({
          connector_reference: intent.id,
          captured_amount: 4200,
          processing_since: null,
        });

        // The merchant's server retries its request with the same key: the same payment, nothing new at Stripe.
        const retried = await retryPayment(call, checkoutId, STRIPE_TEST_CARDS.visa);
        expect(retried.json).toMatchObject({ id: paymentId, status: 'SUCCEEDED', captured_amount: 4200 });
        expect(stripe.intentsFor(paymentId)).toHaveLength(1);
        expect(stripe.intent(String(intent.id))).toMatchObject({
          status: 'succeeded',
          amount_received: 4200,
        });
        const creates = stripe.requests.filter(
          (request) => request.method === 'POST' && request.path === '/v1/payment_intents',
        );
        const captures = stripe.requests.filter((request) => request.path.endsWith('/capture'));
        // Every create and capture request carried one key each: a replay, never a second charge.
        expect(new Set(creates.map((request) => request.headers['idempotency-key'])).size).toBe(1);
        expect(new Set(captures.map((request) => request.headers['idempotency-key'])).size).toBe(1);
        expect(stripe.violations).toEqual([]);
      } finally {
        await stripe.close();
      }
    },
  );

  it(
    "Adyen: the unacknowledged AUTHORISATION webhook, delivered again, settles it; the retry is Adyen's replay; one charge",
    { timeout: 180_000 },
    async () => {
      const adyen = await startFakeAdyen();
      try {
        gateway = await startGatewayProcess(env());
        const port = gateway.port;
        const call = merchantClient(await newMerchant('Adyen crash shop'));
        const connected = await call('POST', '/v1/processor-accounts', {
          processor: 'adyen',
          credentials: {
            api_key: adyen.apiKey,
            merchant_account: adyen.merchantAccount,
            hmac_key: adyen.hmacKey,
          },
          payment_methods: ['card'],
          api_base_url: adyen.url,
        });
        expect(connected.status, JSON.stringify(connected.json)).toBe(201);
        const webhookUrl = String(connected.json.webhook_url);
        const created = await call(
          'POST',
          '/v1/checkouts',
          checkoutRequest(simpleOrder('EUR', 'DE', 3100), { capture_mode: 'manual' }),
        );
        const checkoutId = String(created.json.checkout_id);

        // Adyen authorises, then holds its answer for a minute; its webhook cannot reach the dying gateway.
        adyen.setFaults({ answerDelayMs: 60_000 });
        const paymentId = await payAndCrash(
          call,
          checkoutId,
          FAKE_ADYEN_CARDS.authorised,
          (id) => adyen.paymentsFor(id).length > 0,
        );
        adyen.setFaults({});
        const [charged] = adyen.paymentsFor(paymentId);
        expect(charged).toMatchObject({ state: 'Authorised', amount: { value: 3100, currency: 'EUR' } });
        const authorisation = adyen.sent.findIndex(
          (request) =>
            request.notificationItems[0]!.NotificationRequestItem.pspReference === charged!.pspReference,
        );
        expect(authorisation).toBeGreaterThanOrEqual(0);

        gateway = await startGatewayProcess(env(), { port });
        // Recovery cannot ask Adyen (no lookup): the payment waits for the webhook, never guessed.
        await sleep(RECOVERY_MS * 1.5);
        expect((await paymentRow(checkoutId))[0]).toMatchObject({
          status: 'PENDING',
          connector_reference: null,
        });

        adyen.setWebhookUrl(webhookUrl);
        await adyen.redeliver(authorisation);
        await waitUntil(
          async () => (await paymentRow(checkoutId))[0]?.status === 'AUTHORIZED',
          15_000,
          async () => `the webhook did not settle it: ${JSON.stringify(await paymentRow(checkoutId))}`,
        );
        expect((await paymentRow(checkoutId))[0]).toMatchObject({
          connector_reference: charged!.pspReference,
          processing_since: null,
        });

        const retried = await retryPayment(call, checkoutId, FAKE_ADYEN_CARDS.authorised);
        expect(retried.json).toMatchObject({ id: paymentId, status: 'AUTHORIZED' });
        expect(adyen.paymentsFor(paymentId)).toHaveLength(1);
        const keys = adyen.requests
          .filter((request) => request.path === '/v71/payments')
          .map((request) => request.idempotencyKey);
        expect(new Set(keys).size).toBe(1);
        expect(adyen.violations).toEqual([]);
      } finally {
        await adyen.close();
      }
    },
  );
});
