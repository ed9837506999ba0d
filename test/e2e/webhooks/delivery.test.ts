/**
 * Webhook delivery end to end: the real app and its real outbox worker (started the way `kassa serve`
 * starts it), a real PostgreSQL database, a receiver on 127.0.0.1 that checks signatures with the
 * `standardwebhooks` reference library. Retry delays come from KASSA_WEBHOOK_RETRY_SCHEDULE=0.2,0.4.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookVerificationError } from 'standardwebhooks';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import { LATEST_API_VERSION } from '../../../src/lib/api-versions.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from './webhook-receiver.ts';

let t: TestApp;
let receiver: WebhookReceiver;
let workers: { stop(): Promise<void> };
const replies = new Map<
  string,
  (index: number) => { status: number; headers?: Record<string, string>; body?: string }
>();

beforeAll(async () => {
  t = await createTestApp({ env: { KASSA_WEBHOOK_RETRY_SCHEDULE: '0.2,0.4' } });
  receiver = await startWebhookReceiver((request) => {
    const path = request.path;
    const seen = receiver.received.filter((r) => r.path === path).length - 1;
    return replies.get(path)?.(seen) ?? { status: 200, body: 'ok' };
  });
  workers = startWorkers(t.services, t.app.log);
});

afterAll(async () => {
  await workers.stop();
  await receiver.close();
  await t.close();
});

async function createEndpoint(merchant: TestMerchant, path: string, enabledEvents: string[] = ['*']) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/webhook-endpoints',
    headers: merchant.headers,
    payload: { url: `${receiver.url}${path}`, enabled_events: enabledEvents },
  });
  expect(response.statusCode).toBe(201);
  return response.json() as { id: string; secret: string; status: string };
}

async function emit(
  merchant: TestMerchant,
  type: 'payment.succeeded' | 'checkout.completed' = 'payment.succeeded',
) {
  const { id } = await t.services.db.transaction((tx) =>
    emitEvent(tx, {
      merchantId: merchant.merchantId,
      livemode: false,
      type,
      objectId: 'pay_0123456789abcdef0123456789abcdef',
      objectVersion: 3,
      data: {
        object: 'payment',
        id: 'pay_0123456789abcdef0123456789abcdef',
        amount: 12_345,
        currency: 'EUR',
        status: 'SUCCEEDED',
        version: 3,
      },
    }),
  );
  t.services.outbox.notify();
  return id;
}

function receivedAt(path: string) {
  return receiver.received.filter((r) => r.path === path);
}

async function deliveriesOf(merchant: TestMerchant, eventId: string) {
  const response = await t.app.inject({
    method: 'GET',
    url: `/v1/events/${eventId}/deliveries`,
    headers: merchant.headers,
  });
  expect(response.statusCode).toBe(200);
  return (
    response.json() as {
      data: {
        status: string;
        webhook_endpoint_id: string;
        attempts: {
          status_code: number | null;
          error: string | null;
          result: string;
          response_excerpt: string | null;
        }[];
      }[];
    }
  ).data;
}

describe('delivery', () => {
  it('sends the event object plus timestamp with Standard Webhooks headers that the reference library verifies', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/basic');
    const eventId = await emit(merchant);
    await receiver.waitFor(() => receivedAt('/basic').length === 1);
    const [webhook] = receivedAt('/basic');
    expect(webhook!.headers['webhook-id']).toBe(eventId);
    expect(webhook!.headers['content-type']).toBe('application/json');
    const timestamp = Number(webhook!.headers['webhook-timestamp']);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(10);
    expect(String(webhook!.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = verifyWebhook(endpoint.secret, webhook!) as {
      type: string;
      api_version: string;
      timestamp: string;
      created_at: string;
      data: Record<string, unknown>;
    };
    // The event object as GET /v1/events/{id} shows it, without pending_webhooks, plus `timestamp`.
    const event = (
      await t.app.inject({ method: 'GET', url: `/v1/events/${eventId}`, headers: merchant.headers })
    ).json() as Record<string, unknown>;
    const { pending_webhooks: pending, ...eventObject } = event;
    expect(pending).toBeTypeOf('number');
    expect(payload).toEqual({ ...eventObject, timestamp: event.created_at });
    expect(Object.keys(payload)).toEqual([
      'id',
      'object',
      'type',
      'api_version',
      'livemode',
      'created_at',
      'timestamp',
      'object_id',
      'object_version',
      'order_id',
      'checkout_id',
      'payment_id',
      'actor',
      'data',
    ]);
    expect(payload).toMatchObject({
      id: eventId,
      object: 'event',
      livemode: false,
      object_id: 'pay_0123456789abcdef0123456789abcdef',
      object_version: 3,
    });
    expect(payload.timestamp).toBe(payload.created_at);
    // Emitted outside any request or worker: Kassa itself.
    expect((payload as { actor?: unknown }).actor).toEqual({ type: 'system', id: 'kassa' });
    expect(payload.type).toBe('payment.succeeded');
    expect(payload.api_version).toBe(LATEST_API_VERSION);
    expect(new Date(payload.timestamp).toISOString()).toBe(payload.timestamp);
    expect(payload.data).toMatchObject({ amount: 12_345, currency: 'EUR', version: 3 });

    await expect.poll(async () => (await deliveriesOf(merchant, eventId))[0]?.status).toBe('SUCCEEDED');
  });

  it('changing one byte of the body (or the id) makes verification fail', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/tamper');
    await emit(merchant);
    await receiver.waitFor(() => receivedAt('/tamper').length === 1);
    const webhook = receivedAt('/tamper')[0]!;
    expect(() => verifyWebhook(endpoint.secret, webhook)).not.toThrow();
    const index = webhook.body.indexOf('12345');
    const tampered = `${webhook.body.slice(0, index)}92345${webhook.body.slice(index + 5)}`;
    expect(tampered).not.toBe(webhook.body);
    expect(() => verifyWebhook(endpoint.secret, { ...webhook, body: tampered })).toThrow(
      WebhookVerificationError,
    );
    expect(() =>
      verifyWebhook(endpoint.secret, {
        ...webhook,
        headers: { ...webhook.headers, 'webhook-id': 'evt_other' },
      }),
    ).toThrow(WebhookVerificationError);
    const other = await createEndpoint(merchant, '/tamper-other');
    expect(() => verifyWebhook(other.secret, webhook)).toThrow(WebhookVerificationError);
  });

  it('retries 500, 500, 200 with the same webhook-id and growing delays, then stops', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/flaky');
    replies.set('/flaky', (index) =>
      index < 2 ? { status: 500, body: `boom ${index}` } : { status: 200, body: 'finally' },
    );
    const eventId = await emit(merchant);
    await receiver.waitFor(() => receivedAt('/flaky').length === 3);
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // nothing more may arrive
    const attempts = receivedAt('/flaky');
    expect(attempts).toHaveLength(3);
    for (const attempt of attempts) {
      expect(attempt.headers['webhook-id']).toBe(eventId);
      verifyWebhook(endpoint.secret, attempt);
    }
    const firstGap = attempts[1]!.receivedAt - attempts[0]!.receivedAt;
    const secondGap = attempts[2]!.receivedAt - attempts[1]!.receivedAt;
    // Schedule 0.2 s then 0.4 s, ±10 % jitter.
    expect(firstGap).toBeGreaterThanOrEqual(180);
    expect(secondGap).toBeGreaterThanOrEqual(360);
    expect(secondGap).toBeGreaterThan(firstGap);
    expect(firstGap).toBeLessThan(1_000);

    const [delivery] = await deliveriesOf(merchant, eventId);
    expect(delivery!.status).toBe('SUCCEEDED');
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([500, 500, 200]);
    expect(delivery!.attempts.map((a) => a.result)).toEqual(['failed', 'failed', 'succeeded']);
    expect(delivery!.attempts[0]!.response_excerpt).toBe('boom 0');
    expect(delivery!.attempts[0]!.error).toBe('HTTP 500');
  });

  it('gives up after the last scheduled attempt', async () => {
    const merchant = await t.createMerchant();
    await createEndpoint(merchant, '/down');
    replies.set('/down', () => ({ status: 500 }));
    const eventId = await emit(merchant);
    await receiver.waitFor(() => receivedAt('/down').length === 3);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receivedAt('/down')).toHaveLength(3); // 1 + two retries (schedule 0.2,0.4)
    const [delivery] = await deliveriesOf(merchant, eventId);
    expect(delivery!.status).toBe('FAILED');
  });

  it('410 Gone disables the endpoint and nothing more is sent to it', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/gone');
    replies.set('/gone', () => ({ status: 410, body: 'unsubscribed' }));
    const eventId = await emit(merchant);
    await receiver.waitFor(() => receivedAt('/gone').length === 1);
    await expect
      .poll(async () => {
        const response = await t.app.inject({
          method: 'GET',
          url: `/v1/webhook-endpoints/${endpoint.id}`,
          headers: merchant.headers,
        });
        return (response.json() as { status: string }).status;
      })
      .toBe('DISABLED');
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      headers: merchant.headers,
    });
    expect(response.json()).toMatchObject({
      status: 'DISABLED',
      disabled_reason: 'endpoint_gone',
      disabled_message: expect.stringContaining('410'),
    });
    const [delivery] = await deliveriesOf(merchant, eventId);
    expect(delivery!.status).toBe('FAILED');

    await emit(merchant);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(receivedAt('/gone')).toHaveLength(1);
  });

  it('does not follow redirects: a 3xx is a failure and the Location target receives nothing', async () => {
    const merchant = await t.createMerchant();
    await createEndpoint(merchant, '/moved');
    replies.set('/moved', () => ({ status: 302, headers: { location: `${receiver.url}/moved-target` } }));
    const eventId = await emit(merchant);
    await receiver.waitFor(() => receivedAt('/moved').length === 3);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receivedAt('/moved-target')).toHaveLength(0);
    const [delivery] = await deliveriesOf(merchant, eventId);
    expect(delivery!.status).toBe('FAILED');
    expect(delivery!.attempts.map((a) => a.status_code)).toEqual([302, 302, 302]);
    expect(delivery!.attempts[0]!.error).toMatch(/redirects are not followed/);
  });

  it('honours Retry-After on 429 and 503 instead of the (shorter) schedule', async () => {
    const merchant = await t.createMerchant();
    await createEndpoint(merchant, '/busy');
    replies.set('/busy', (index) =>
      index === 0
        ? { status: 503, headers: { 'retry-after': '2' } }
        : index === 1
          ? { status: 429, headers: { 'retry-after': '1' } }
          : { status: 204 },
    );
    const eventId = await emit(merchant);
    await receiver.waitFor(() => receivedAt('/busy').length === 3, 15_000);
    const [first, second, third] = receivedAt('/busy');
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1_950);
    expect(third!.receivedAt - second!.receivedAt).toBeGreaterThanOrEqual(950);
    await expect.poll(async () => (await deliveriesOf(merchant, eventId))[0]?.status).toBe('SUCCEEDED');
  });

  it('records network failures as attempts with an error and no status', async () => {
    const merchant = await t.createMerchant();
    const closed = await startWebhookReceiver();
    const url = `${closed.url}/nobody`;
    await closed.close(); // the port is now refused
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url, enabled_events: ['payment.succeeded'] },
    });
    expect(created.statusCode).toBe(201);
    const eventId = await emit(merchant);
    await expect
      .poll(async () => (await deliveriesOf(merchant, eventId))[0]?.status, { timeout: 5_000 })
      .toBe('FAILED');
    const [delivery] = await deliveriesOf(merchant, eventId);
    expect(delivery!.attempts).toHaveLength(3);
    expect(delivery!.attempts[0]).toMatchObject({ status_code: null, result: 'failed' });
    expect(delivery!.attempts[0]!.error).toMatch(/^connection_failed/);
  });

  it('sends only the event types an endpoint subscribes to', async () => {
    const merchant = await t.createMerchant();
    await createEndpoint(merchant, '/only-checkouts', ['checkout.completed']);
    await createEndpoint(merchant, '/everything', ['*']);
    await emit(merchant, 'payment.succeeded');
    const checkoutEvent = await emit(merchant, 'checkout.completed');
    await receiver.waitFor(
      () => receivedAt('/everything').length === 2 && receivedAt('/only-checkouts').length === 1,
    );
    expect(receivedAt('/only-checkouts')[0]!.headers['webhook-id']).toBe(checkoutEvent);
  });
});

describe('secret rotation', () => {
  it('signs with both secrets during the overlap, then only with the new one', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/rotating');
    const rotated = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/roll-secret`,
      headers: merchant.headers,
      payload: { expire_previous_in_seconds: 3600 },
    });
    expect(rotated.statusCode).toBe(200);
    const { secret: newSecret, previous_secret_expires_at: overlapEnds } = rotated.json() as {
      secret: string;
      previous_secret_expires_at: string;
    };
    expect(newSecret).not.toBe(endpoint.secret);
    expect(new Date(overlapEnds).getTime() - Date.now()).toBeGreaterThan(3500_000);

    await emit(merchant);
    await receiver.waitFor(() => receivedAt('/rotating').length === 1);
    const duringOverlap = receivedAt('/rotating')[0]!;
    expect(String(duringOverlap.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => verifyWebhook(endpoint.secret, duringOverlap)).not.toThrow();
    expect(() => verifyWebhook(newSecret, duringOverlap)).not.toThrow();

    // Ending the overlap at once (0 s): only the newest secret signs.
    const again = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/roll-secret`,
      headers: merchant.headers,
      payload: { expire_previous_in_seconds: 0 },
    });
    const newest = (again.json() as { secret: string }).secret;
    await emit(merchant);
    await receiver.waitFor(() => receivedAt('/rotating').length === 2);
    const after = receivedAt('/rotating')[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => verifyWebhook(newest, after)).not.toThrow();
    expect(() => verifyWebhook(newSecret, after)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(endpoint.secret, after)).toThrow(WebhookVerificationError);
  });
});

describe('POST /v1/webhook-endpoints/{id}/test', () => {
  it('sends a signed ping to that endpoint only', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/ping-me');
    await createEndpoint(merchant, '/not-me');
    const response = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/test`,
      headers: merchant.headers,
    });
    expect(response.statusCode).toBe(202);
    const event = response.json() as { id: string; type: string; object: string };
    expect(event).toMatchObject({ object: 'event', type: 'ping' });
    await receiver.waitFor(() => receivedAt('/ping-me').length === 1);
    const ping = receivedAt('/ping-me')[0]!;
    expect(ping.headers['webhook-id']).toBe(event.id);
    const payload = verifyWebhook(endpoint.secret, ping) as {
      type: string;
      data: { webhook_endpoint_id: string };
    };
    expect(payload.type).toBe('ping');
    expect(payload.data.webhook_endpoint_id).toBe(endpoint.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receivedAt('/not-me')).toHaveLength(0);
  });

  it('sends the example of a chosen event type, signed, to that endpoint only', async () => {
    const merchant = await t.createMerchant();
    // Subscribed to another type: a test goes to the endpoint tested whatever it subscribes to.
    const endpoint = await createEndpoint(merchant, '/typed-test', ['checkout.completed']);
    await createEndpoint(merchant, '/subscribed-elsewhere', ['payment.succeeded']);
    const response = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/test`,
      headers: merchant.headers,
      payload: { type: 'payment.succeeded' },
    });
    expect(response.statusCode).toBe(202);
    const event = response.json() as { id: string; type: string };
    expect(event.type).toBe('payment.succeeded');
    await receiver.waitFor(() => receivedAt('/typed-test').length === 1);
    const received = receivedAt('/typed-test')[0]!;
    expect(received.headers['webhook-id']).toBe(event.id);
    const payload = verifyWebhook(endpoint.secret, received) as {
      id: string;
      type: string;
      object_id: string;
      payment_id: string;
      data: Record<string, unknown>;
    };
    expect(payload.type).toBe('payment.succeeded');
    expect(payload.id).toBe(event.id);
    // The example of the `webhooks` section of /openapi.json, in this endpoint's mode.
    const document = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      webhooks: Record<
        string,
        {
          post: {
            requestBody: { content: Record<string, { examples: Record<string, { value: unknown }> }> };
          };
        }
      >;
    };
    const example = document.webhooks['payment.succeeded']!.post.requestBody.content['application/json']!
      .examples['payment.succeeded']!.value as { data: Record<string, unknown>; object_id: string };
    expect(payload.data).toEqual({ ...example.data, livemode: false });
    expect(payload.data).toMatchObject({ object: 'payment', status: 'SUCCEEDED' });
    expect(payload.object_id).toBe(example.object_id);
    expect(payload.payment_id).toBe(example.data.id);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receivedAt('/subscribed-elsewhere')).toHaveLength(0);

    const refund = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/test`,
      headers: merchant.headers,
      payload: { type: 'refund.failed' },
    });
    expect(refund.statusCode).toBe(202);
    await receiver.waitFor(() => receivedAt('/typed-test').length === 2);
    const refundPayload = verifyWebhook(endpoint.secret, receivedAt('/typed-test')[1]!) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(refundPayload.type).toBe('refund.failed');
    expect(refundPayload.data).toMatchObject({ status: 'FAILED' });
  });

  it('refuses an unknown event type with a pointer at it', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/typo-test');
    const response = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/test`,
      headers: merchant.headers,
      payload: { type: 'payment.succeded' },
    });
    const problem = expectProblem(response);
    expect(problem).toMatchObject({ status: 422, code: 'validation_failed' });
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/type' })]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receivedAt('/typo-test')).toHaveLength(0);
  });

  it('refuses a disabled endpoint (409) and an unknown one (404) with problem documents', async () => {
    const merchant = await t.createMerchant();
    const endpoint = await createEndpoint(merchant, '/paused');
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${endpoint.id}`,
      headers: merchant.headers,
      payload: { status: 'DISABLED' },
    });
    const disabled = await t.app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/test`,
      headers: merchant.headers,
    });
    expect(expectProblem(disabled)).toMatchObject({ status: 409, code: 'invalid_state_transition' });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints/whe_00000000000000000000000000000000/test',
      headers: merchant.headers,
    });
    expect(expectProblem(unknown)).toMatchObject({ status: 404, code: 'not_found' });
    expect(receivedAt('/paused')).toHaveLength(0);
  });
});
