/**
 * Every event names its actor (docs/events.md, "Actor"): the API key or OAuth client of the request that
 * caused it, the shopper's checkout, or the worker — in GET /v1/events and in the delivered webhook body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsActor } from '../../../src/lib/actor-context.ts';
import { createWorkers, startWorkers } from '../../../src/workers/workers.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutRequest,
  createCheckout,
  createManualClock,
  simpleOrder,
} from '../checkouts/checkout-fixtures.ts';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';

let t: TestApp;
let merchant: TestMerchant;
let apiKeyId: string;
let receiver: WebhookReceiver;
const clock = createManualClock(new Date());

beforeAll(async () => {
  t = await createTestApp({ clock });
  merchant = await t.createMerchant();
  receiver = await startWebhookReceiver(() => ({ status: 200 }));
  const keys = await t.app.inject({ url: '/v1/api-keys', headers: merchant.headers });
  apiKeyId = (keys.json() as { data: { id: string }[] }).data[0]!.id;
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

type EventJson = { id: string; type: string; object_id: string; actor: { type: string; id: string } | null };

async function eventsOf(type: string, objectId: string): Promise<EventJson[]> {
  const response = await t.app.inject({
    url: `/v1/events?type=${type}&limit=100`,
    headers: merchant.headers,
  });
  expect(response.statusCode).toBe(200);
  return (response.json() as { data: EventJson[] }).data.filter((event) => event.object_id === objectId);
}

describe('event actor', () => {
  it('is the API key of the request that caused the event', async () => {
    expect(apiKeyId).toMatch(/^key_/);
    const checkout = await createCheckout(t, merchant, checkoutRequest(simpleOrder('EUR', 'FI', 1_000)));
    const [created] = await eventsOf('checkout.created', checkout.checkout_id);
    expect(created!.actor).toEqual({ type: 'credential', id: apiKeyId });
  });

  it('is the OAuth client when the request carried its access token', async () => {
    const token = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      payload: {
        grant_type: 'client_credentials',
        client_id: merchant.clientId,
        client_secret: merchant.clientSecret,
      },
    });
    const authorization = `Bearer ${(token.json() as { access_token: string }).access_token}`;
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/checkouts',
      headers: { authorization },
      payload: checkoutRequest(simpleOrder('EUR', 'FI', 1_500, 'order-oauth')),
    });
    expect(response.statusCode).toBe(201);
    const [created] = await eventsOf(
      'checkout.created',
      (response.json() as { checkout_id: string }).checkout_id,
    );
    expect(created!.actor).toEqual({ type: 'credential', id: merchant.clientId });
  });

  it('is the worker for what a worker does, even when a request armed its timer', async () => {
    const checkout = await createCheckout(
      t,
      merchant,
      checkoutRequest(simpleOrder('EUR', 'FI', 2_000, 'order-expiring'), { expires_in_seconds: 60 }),
    );
    clock.advance(61);
    const expire = createWorkers(t.services).filter((worker) => worker.name === 'expire-checkouts');
    // Timers inherit the async context they were set in: the workers must not run as this credential.
    const workers = runAsActor({ type: 'credential', id: apiKeyId }, () =>
      startWorkers(t.services, t.app.log, expire),
    );
    try {
      for (
        let i = 0;
        i < 100 && (await eventsOf('checkout.expired', checkout.checkout_id)).length === 0;
        i += 1
      )
        await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await workers.stop();
    }
    const [expired] = await eventsOf('checkout.expired', checkout.checkout_id);
    expect(expired!.actor).toEqual({ type: 'system', id: 'expire-checkouts' });
  });

  it('is in the webhook body the endpoint receives', async () => {
    const endpoint = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `${receiver.url}/actor`, enabled_events: ['checkout.created'] },
    });
    expect(endpoint.statusCode).toBe(201);
    const { secret } = endpoint.json() as { secret: string };
    const workers = startWorkers(t.services, t.app.log, []);
    try {
      const checkout = await createCheckout(
        t,
        merchant,
        checkoutRequest(simpleOrder('EUR', 'FI', 900, 'order-hook')),
      );
      await receiver.waitFor((received) => received.some((r) => r.path === '/actor'));
      const payload = verifyWebhook(
        secret,
        receiver.received.find((r) => r.path === '/actor')!,
      ) as {
        actor: unknown;
        data: { checkout_id: string };
      };
      expect(payload.data.checkout_id).toBe(checkout.checkout_id);
      expect(payload.actor).toEqual({ type: 'credential', id: apiKeyId });
    } finally {
      await workers.stop();
    }
  });
});
