/**
 * `expand[]` on every GET route with an expandable `<object>_id`, and `expand[]=data.<object>` on the lists
 * (docs/api-conventions.md §6), over real HTTP on real rows: each expanded object is the one its own GET
 * answers; a null id expands to null; an unknown path is a 422 at its index; each expansion needs its read
 * scope; another merchant's object never appears. `GET /v1/payments/{id}`, `/v1/captures/{id}` and
 * `/v1/refunds/{id}` are in expand.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { scopedTokenHeaders } from '../../fixtures/scoped-token.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createPaymentCheckout, authorizedPayment, type PaymentJson } from '../payments/payment-fixtures.ts';
import {
  checkoutIdOf,
  createLink,
  openLink,
  payWithApprovedCard,
} from '../payment-links/payment-link-fixtures.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

type Json = Record<string, unknown> & { id: string };
type Page = { data: Json[] };

let t: TestApp;
let receiver: WebhookReceiver;
let workers: { stop(): Promise<void> };
let merchant: TestMerchant;
let other: TestMerchant;
let endpointId: string;
let linkId: string;
let linkCheckoutId: string;
let payment: PaymentJson;
let captureId: string;
let customerId: string;

async function get(path: string, headers: Record<string, string> = merchant.headers) {
  const response = await fetch(`${t.baseUrl}${path}`, { headers });
  const body = await response.text();
  return { statusCode: response.status, headers: Object.fromEntries(response.headers.entries()), body };
}
async function json<T = Json>(path: string, headers?: Record<string, string>): Promise<T> {
  const answer = await get(path, headers);
  expect(answer.statusCode, `${path}: ${answer.body}`).toBe(200);
  return JSON.parse(answer.body) as T;
}
async function send(method: string, path: string, body: object) {
  const response = await fetch(`${t.baseUrl}${path}`, {
    method,
    headers: { ...merchant.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status, path).toBeLessThan(300);
  return (await response.json()) as Json;
}

beforeAll(async () => {
  t = await createTestApp({ listen: true });
  receiver = await startWebhookReceiver(() => ({ status: 200 }));
  workers = startWorkers(t.services, t.app.log);
  merchant = await t.createMerchant();
  other = await t.createMerchant();
  endpointId = (
    await send('POST', '/v1/webhook-endpoints', { url: `${receiver.url}/hook`, enabled_events: ['*'] })
  ).id;
  const link = await createLink(t, merchant);
  linkId = link.payment_link_id;
  linkCheckoutId = checkoutIdOf(String((await openLink(t, link)).headers.location));
  await payWithApprovedCard(t, merchant, linkCheckoutId);
  payment = await authorizedPayment(t, merchant, { capture: 'manual' });
  captureId = (await send('POST', `/v1/payments/${payment.id}/capture`, {})).id;
  await send('POST', `/v1/payments/${payment.id}/refunds`, { amount: 100 });
  const withCustomer = await createPaymentCheckout(t, merchant, { customerEmail: 'expand@example.com' });
  customerId = (withCustomer.order as unknown as { customer: { id: string } }).customer.id;
  await t.database.db.query(
    `INSERT INTO saved_payment_methods (id, merchant_id, livemode, customer_id, card_brand, card_last4,
       card_exp_month, card_exp_year, card_fingerprint, card_encrypted)
     VALUES ($1, $2, false, $3, 'visa', '4242', 12, 2040, 'fp-expand', '\\x0102'::bytea)`,
    [`pm_${'e'.repeat(32)}`, merchant.merchantId, customerId],
  );
});
afterAll(async () => {
  await workers.stop();
  await receiver.close();
  await t.close();
});

describe('expand[] on objects', () => {
  it('checkout → payment_link (null without one), as the link list shows it', async () => {
    const linked = await json(`/v1/checkouts/${linkCheckoutId}?expand[]=payment_link`);
    const listed = await json<Page>(`/v1/payment-links`);
    expect(linked.payment_link).toEqual(listed.data.find((item) => item.id === linkId));
    const plain = await json(`/v1/checkouts/${payment.checkout_id}?expand[]=payment_link`);
    expect(plain.payment_link_id).toBeNull();
    expect(plain.payment_link).toBeNull();
    expect(await json(`/v1/checkouts/${payment.checkout_id}`)).not.toHaveProperty('payment_link');
  });

  it('order → checkout, as GET /v1/checkouts/{id} answers it', async () => {
    const order = await json(`/v1/orders/${payment.order_id}?expand[]=checkout`);
    expect(order.checkout).toEqual(await json(`/v1/checkouts/${payment.checkout_id}`));
  });

  it('event → order, checkout and payment', async () => {
    const events = await json<Page>(`/v1/events?order_id=${payment.order_id}&type=payment.authorized`);
    const eventId = events.data[0]!.id;
    const event = await json(`/v1/events/${eventId}?expand[]=order&expand[]=checkout&expand[]=payment`);
    expect(event.order).toEqual(await json(`/v1/orders/${payment.order_id}`));
    expect(event.checkout).toEqual(await json(`/v1/checkouts/${payment.checkout_id}`));
    expect((event.payment as Json).id).toBe(payment.id);
  });
});

describe('expand[]=data.<object> on lists', () => {
  it('adds each item its object, one per id, on every list that has one', async () => {
    const cases: [string, string][] = [
      ['/v1/checkouts?expand[]=data.payment_link', 'payment_link'],
      ['/v1/orders?expand[]=data.checkout', 'checkout'],
      [`/v1/orders/${payment.order_id}/payments?expand[]=data.order&expand[]=data.checkout`, 'order'],
      [`/v1/orders/${payment.order_id}/payments?expand[]=data.checkout`, 'checkout'],
      ['/v1/captures?expand[]=data.payment', 'payment'],
      ['/v1/refunds?expand[]=data.payment', 'payment'],
      [`/v1/payments/${payment.id}/captures?expand[]=data.payment`, 'payment'],
      [`/v1/payments/${payment.id}/refunds?expand[]=data.payment`, 'payment'],
      [`/v1/events?order_id=${payment.order_id}&expand[]=data.payment`, 'payment'],
      [`/v1/customers/${customerId}/payment-methods?expand[]=data.customer`, 'customer'],
    ];
    for (const [path, name] of cases) {
      const page = await json<Page>(path);
      expect(page.data.length, path).toBeGreaterThan(0);
      for (const item of page.data) {
        const id = item[`${name}_id`] as string | null;
        if (id === null) expect(item[name], path).toBeNull();
        else expect((item[name] as Json).id, path).toBe(id);
      }
      const plain = await json<Page>(path.replace(/[?&]expand\[\]=[^&]+/g, '').replace(/^([^?]*)&/, '$1?'));
      expect(plain.data[0], path).not.toHaveProperty(name);
    }
    const [first] = (await json<Page>('/v1/captures?expand[]=data.payment')).data;
    expect(first!.payment).toEqual(await json(`/v1/payments/${payment.id}`));
    expect(first!.id).toBe(captureId);
    const cards = await json<Page>(`/v1/customers/${customerId}/payment-methods?expand[]=data.customer`);
    expect(cards.data[0]!.customer).toEqual(await json(`/v1/customers/${customerId}`));
    const linked = await json<Page>('/v1/checkouts?expand[]=data.payment_link');
    expect(linked.data.filter((item) => item.payment_link !== null).map((item) => item.id)).toEqual([
      linkCheckoutId,
    ]);
  });

  it("expands a delivery's event and endpoint, and a timeline's webhook attempts", async () => {
    const events = await json<Page>(`/v1/events?order_id=${payment.order_id}&type=payment.authorized`);
    const eventId = events.data[0]!.id;
    let deliveries: Page = { data: [] };
    await expect
      .poll(async () => {
        deliveries = await json<Page>(
          `/v1/events/${eventId}/deliveries?expand[]=data.event&expand[]=data.webhook_endpoint`,
        );
        return deliveries.data.length;
      })
      .toBeGreaterThan(0);
    const delivery = deliveries.data[0]!;
    expect(delivery.event).toEqual(await json(`/v1/events/${eventId}`));
    expect(delivery.webhook_endpoint).toEqual(await json(`/v1/webhook-endpoints/${endpointId}`));

    await expect
      .poll(async () => {
        const timeline = await json<{ data: (Json & { kind: string })[] }>(
          `/v1/orders/${payment.order_id}/timeline?expand[]=data.webhook_endpoint&expand[]=data.event&limit=100`,
        );
        const attempts = timeline.data.filter((entry) => entry.kind === 'webhook_attempt');
        const events = timeline.data.filter((entry) => entry.kind === 'event');
        return (
          attempts.length > 0 &&
          attempts.every(
            (entry) =>
              (entry.webhook_endpoint as Json).id === endpointId &&
              (entry.event as Json).id === entry.event_id,
          ) &&
          events.every((entry) => !('webhook_endpoint' in entry))
        );
      })
      .toBe(true);
  });
});

describe('refusals', () => {
  it('an unknown path is a 422 at its index: lists take data.<object>, objects the bare name', async () => {
    for (const [path, pointer] of [
      ['/v1/orders?expand[]=data.checkout&expand[]=checkout', '/query/expand/1'],
      [`/v1/orders/${payment.order_id}?expand[]=data.checkout`, '/query/expand/0'],
      [`/v1/checkouts/${payment.checkout_id}?expand[]=order`, '/query/expand/0'],
      ['/v1/events?expand[]=data.object', '/query/expand/0'],
    ] as const) {
      const answer = await get(path);
      expect(answer.statusCode, path).toBe(422);
      expect(
        expectProblem(answer).errors?.map((error) => error.pointer),
        path,
      ).toEqual([pointer]);
    }
  });

  it("needs the read scope of the expanded object's resource", async () => {
    const headers = await scopedTokenHeaders(t, merchant, 'orders:read webhooks:read');
    expect((await get('/v1/orders', headers)).statusCode).toBe(200);
    for (const path of [
      '/v1/orders?expand[]=data.checkout',
      `/v1/orders/${payment.order_id}?expand[]=checkout`,
      `/v1/events?expand[]=data.payment`,
    ]) {
      const refused = await get(path, headers);
      expect(refused.statusCode, path).toBe(403);
      expect(expectProblem(refused).code).toBe('insufficient_scope');
    }
    expect(
      (await get(`/v1/orders/${payment.order_id}/timeline?expand[]=data.event`, headers)).statusCode,
    ).toBe(200);
  });

  it("never shows another merchant's object: an id naming one expands to null", async () => {
    // An event of the other merchant that names this merchant's order, checkout and payment.
    const { id } = await t.services.db.transaction((tx) =>
      emitEvent(tx, {
        merchantId: other.merchantId,
        livemode: other.livemode,
        type: 'payment.succeeded',
        orderId: payment.order_id,
        checkoutId: payment.checkout_id,
        paymentId: payment.id,
        data: {},
      }),
    );
    const expand = 'expand[]=order&expand[]=checkout&expand[]=payment';
    const event = await json(`/v1/events/${id}?${expand}`, other.headers);
    expect(event).toMatchObject({ order_id: payment.order_id, order: null, checkout: null, payment: null });
    const listed = await json<Page>(`/v1/events?expand[]=data.order&expand[]=data.payment`, other.headers);
    expect(listed.data.find((item) => item.id === id)).toMatchObject({ order: null, payment: null });
    // The owner still sees them through its own events.
    const own = await json<Page>(`/v1/events?order_id=${payment.order_id}&expand[]=data.order`);
    expect(own.data.every((item) => (item.order as Json).id === payment.order_id)).toBe(true);
  });
});
