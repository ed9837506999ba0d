/**
 * The dashboard's webhook pages through app.inject, with the real outbox worker delivering to a receiver on
 * 127.0.0.1 that checks every signature with the `standardwebhooks` reference library. Retries come fast
 * (KASSA_WEBHOOK_RETRY_SCHEDULE=0.2,0.4), so a receiver answering 500 makes a FAILED delivery in a second.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../../../src/modules/events/event.repository.ts';
import { startWorkers } from '../../../src/workers/workers.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { startWebhookReceiver, verifyWebhook, type WebhookReceiver } from '../webhooks/webhook-receiver.ts';
import { addUser, csrfOf, formKeyOf, page, signIn, submit } from './dashboard-fixtures.ts';

const SECRET = /whsec_[A-Za-z0-9+/=]+/g;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('dashboard: webhook endpoints, deliveries and events', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let other: TestMerchant;
  let receiver: WebhookReceiver;
  let workers: { stop(): Promise<void> };
  let developer: string;
  let viewer: string;
  let support: string;
  let failing = true;
  let endpointId: string;
  let secret: string;
  let failingEndpointId: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { KASSA_WEBHOOK_RETRY_SCHEDULE: '0.2,0.4' } });
    merchant = await t.createMerchant({ name: 'Hook Shop' });
    other = await t.createMerchant({ name: 'Other Shop' });
    await addUser(t, merchant.merchantId, 'dev@hook.test', 'developer');
    await addUser(t, merchant.merchantId, 'viewer@hook.test', 'viewer');
    await addUser(t, merchant.merchantId, 'support@hook.test', 'support');
    await addUser(t, other.merchantId, 'owner@other.test', 'owner');
    receiver = await startWebhookReceiver((request) =>
      request.path === '/fail' && failing
        ? { status: 500, body: 'receiver broke <b>here</b>' }
        : { status: 200, body: 'ok' },
    );
    workers = startWorkers(t.services, t.app.log);
    developer = await signIn(t, 'dev@hook.test');
    viewer = await signIn(t, 'viewer@hook.test');
    support = await signIn(t, 'support@hook.test');
  });
  afterAll(async () => {
    await workers?.stop();
    await receiver?.close();
    await t?.close();
  });

  async function endpointsOf(merchantHeaders: Record<string, string>) {
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/webhook-endpoints',
      headers: merchantHeaders,
    });
    return response.json().data as { id: string; url: string; status: string; enabled_events: string[] }[];
  }

  async function createThroughForm(path: string, events: string[]) {
    const list = await page(t, developer, '/dashboard/webhooks');
    const fields = new URLSearchParams({
      csrf_token: csrfOf(list.body),
      form_key: formKeyOf(list.body, '/dashboard/webhooks'),
      url: `${receiver.url}${path}`,
      description: `Receiver ${path}`,
    });
    for (const event of events) fields.append('enabled_events', event);
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/dashboard/webhooks',
        headers: {
          cookie: `kassa_session=${developer}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: fields.toString(),
      });
    return { first: await send(), again: send };
  }

  it('creates an endpoint with its secret shown once; the same form twice creates one endpoint', async () => {
    const { first, again } = await createThroughForm('/ok', ['*']);
    expect(first.statusCode).toBe(201);
    const secrets = first.body.match(SECRET)!;
    expect(secrets).toHaveLength(1);
    secret = secrets[0]!;
    const endpoints = await endpointsOf(merchant.headers);
    expect(endpoints).toMatchObject([
      { url: `${receiver.url}/ok`, status: 'ENABLED', enabled_events: ['*'] },
    ]);
    endpointId = endpoints[0]!.id;

    const repeated = await again();
    expect(repeated.statusCode).toBe(303);
    expect(repeated.headers.location).toBe('/dashboard/webhooks?notice=already_created');
    expect(await endpointsOf(merchant.headers)).toHaveLength(1);

    // Never shown again: not on the list, not on the endpoint's page.
    const list = await page(t, developer, '/dashboard/webhooks?notice=already_created');
    expect(list.body).toContain(`${receiver.url}/ok`);
    expect(list.body).toContain('already sent');
    expect(list.body).not.toMatch(SECRET);
    const endpointPage = await page(t, developer, `/dashboard/webhooks/${endpointId}`);
    expect(endpointPage.statusCode).toBe(200);
    expect(endpointPage.body).not.toMatch(SECRET);
    const { rows } = await t.database.pool.query(
      `SELECT actor_type, actor_id, action FROM audit_log WHERE object_id = $1`,
      [endpointId],
    );
    expect(rows).toMatchObject([{ actor_type: 'user', action: 'webhook_endpoint.created' }]);
  });

  it('refuses a URL the API refuses (a link-local address) and keeps what was typed', async () => {
    const list = await page(t, developer, '/dashboard/webhooks');
    const response = await submit(t, developer, '/dashboard/webhooks', {
      csrf_token: csrfOf(list.body),
      form_key: formKeyOf(list.body, '/dashboard/webhooks'),
      url: 'http://169.254.169.254/latest',
      description: 'metadata',
      enabled_events: 'payment.succeeded',
    });
    expect(response.statusCode).toBe(422);
    expect(response.body).toContain('dash-notice--error');
    expect(response.body).toContain('value="http://169.254.169.254/latest"');
    expect(await endpointsOf(merchant.headers)).toHaveLength(1);
  });

  it('sends a test event that arrives signed with the shown secret, and shows it delivered', async () => {
    const before = await page(t, developer, `/dashboard/webhooks/${endpointId}`);
    const action = `/dashboard/webhooks/${endpointId}/test`;
    const fields = { csrf_token: csrfOf(before.body), form_key: formKeyOf(before.body, action) };
    const response = await submit(t, developer, action, fields);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/dashboard/webhooks/${endpointId}?notice=test_sent`);
    expect((await submit(t, developer, action, fields)).headers.location).toContain('notice=already_sent');
    await receiver.waitFor((received) => received.some((r) => r.path === '/ok'));
    const pings = receiver.received.filter((r) => r.path === '/ok');
    expect(pings).toHaveLength(1);
    expect(verifyWebhook(secret, pings[0]!)).toMatchObject({
      type: 'ping',
      data: { webhook_endpoint_id: endpointId },
    });

    const shown = await until('the delivery shows SUCCEEDED', async () => {
      const html = (await page(t, developer, `/dashboard/webhooks/${endpointId}`)).body;
      return html.includes('SUCCEEDED') ? html : undefined;
    });
    expect(shown).toContain(`webhook-id: ${pings[0]!.headers['webhook-id']}`);
    expect(shown).toContain('Attempt 1: HTTP 200');
    expect(shown).toContain('&quot;webhook_endpoint_id&quot;: &quot;' + endpointId);
  });

  it('shows a failing delivery as FAILED with the response, and Redeliver succeeds once the receiver is fixed', async () => {
    const { first } = await createThroughForm('/fail', ['payment.succeeded']);
    expect(first.statusCode).toBe(201);
    const failingSecret = first.body.match(SECRET)![0]!;
    failingEndpointId = (await endpointsOf(merchant.headers)).find((e) => e.url.endsWith('/fail'))!.id;
    const { id: eventId } = await t.services.db.transaction((tx) =>
      emitEvent(tx, {
        merchantId: merchant.merchantId,
        livemode: false,
        type: 'payment.succeeded',
        objectId: 'pay_dash0000000000000000000000000001',
        data: {
          object: 'payment',
          id: 'pay_dash0000000000000000000000000001',
          amount: 1250,
          currency: 'EUR',
        },
      }),
    );
    t.services.outbox.notify();

    const failedPage = await until('the delivery shows FAILED', async () => {
      const html = (await page(t, developer, `/dashboard/webhooks/${failingEndpointId}`)).body;
      return html.includes('FAILED') ? html : undefined;
    });
    expect(receiver.received.filter((r) => r.path === '/fail')).toHaveLength(3);
    expect(failedPage).toContain('3 attempts');
    expect(failedPage).toContain('Attempt 3: HTTP 500');
    // The receiver's body is shown as text, escaped.
    expect(failedPage).toContain('receiver broke &lt;b>here&lt;/b>');
    expect(failedPage).toContain('&quot;amount&quot;: 1250');

    failing = false;
    const deliveryId = /\/deliveries\/(del_[A-Za-z0-9]+)\/redeliver/.exec(failedPage)![1]!;
    const action = `/dashboard/webhooks/${failingEndpointId}/deliveries/${deliveryId}/redeliver`;
    const fields = {
      csrf_token: csrfOf(failedPage),
      form_key: formKeyOf(failedPage, action),
      return_to: 'endpoint',
    };
    const response = await submit(t, developer, action, fields);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`/dashboard/webhooks/${failingEndpointId}?notice=redelivered`);
    expect((await submit(t, developer, action, fields)).headers.location).toContain('notice=already_sent');
    await receiver.waitFor((received) => received.filter((r) => r.path === '/fail').length === 4);
    const redelivered = receiver.received.filter((r) => r.path === '/fail')[3]!;
    expect(redelivered.headers['webhook-id']).toBe(eventId);
    expect(verifyWebhook(failingSecret, redelivered)).toMatchObject({ type: 'payment.succeeded' });
    const fixedPage = await until('the redelivery shows SUCCEEDED', async () => {
      const html = (await page(t, developer, `/dashboard/webhooks/${failingEndpointId}`)).body;
      return html.includes('SUCCEEDED') ? html : undefined;
    });
    expect(fixedPage).toContain('redelivery');
    expect(fixedPage).toContain('FAILED');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.filter((r) => r.path === '/fail')).toHaveLength(4);

    // The event's page lists its deliveries per endpoint, linked: two to the failing one (the first and the
    // redelivery), one to the endpoint subscribed to every event.
    const eventPage = await page(t, developer, `/dashboard/events/${eventId}`);
    expect(eventPage.statusCode).toBe(200);
    expect(
      eventPage.body.match(new RegExp(`href="/dashboard/webhooks/${failingEndpointId}"`, 'g')),
    ).toHaveLength(2);
    expect(eventPage.body.match(new RegExp(`href="/dashboard/webhooks/${endpointId}"`, 'g'))).toHaveLength(1);
    expect(eventPage.body.match(/class="dash-delivery"/g)).toHaveLength(3);
  });

  it('disables and enables an endpoint, and changes its events', async () => {
    const html = (await page(t, developer, `/dashboard/webhooks/${endpointId}`)).body;
    const csrf = csrfOf(html);
    const disable = await submit(t, developer, `/dashboard/webhooks/${endpointId}/status`, {
      csrf_token: csrf,
      status: 'disabled',
    });
    expect(disable.headers.location).toBe(`/dashboard/webhooks/${endpointId}?notice=disabled`);
    const again = await submit(t, developer, `/dashboard/webhooks/${endpointId}/status`, {
      csrf_token: csrf,
      status: 'disabled',
    });
    expect(again.statusCode).toBe(303);
    let endpoint = (await endpointsOf(merchant.headers)).find((e) => e.id === endpointId)!;
    expect(endpoint.status).toBe('DISABLED');
    const disabledPage = (await page(t, developer, `/dashboard/webhooks/${endpointId}`)).body;
    expect(disabledPage).toContain('Disabled by the merchant');
    expect(disabledPage).not.toContain('Send test event');
    await submit(t, developer, `/dashboard/webhooks/${endpointId}/status`, {
      csrf_token: csrf,
      status: 'enabled',
    });

    const events = new URLSearchParams({ csrf_token: csrf });
    events.append('enabled_events', 'payment.succeeded');
    events.append('enabled_events', 'refund.succeeded');
    const saved = await t.app.inject({
      method: 'POST',
      url: `/dashboard/webhooks/${endpointId}/events`,
      headers: { cookie: `kassa_session=${developer}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: events.toString(),
    });
    expect(saved.headers.location).toBe(`/dashboard/webhooks/${endpointId}?notice=events_saved`);
    endpoint = (await endpointsOf(merchant.headers)).find((e) => e.id === endpointId)!;
    expect(endpoint).toMatchObject({
      status: 'ENABLED',
      enabled_events: ['payment.succeeded', 'refund.succeeded'],
    });

    const none = await submit(t, developer, `/dashboard/webhooks/${endpointId}/events`, { csrf_token: csrf });
    expect(none.statusCode).toBe(422);
    expect(none.body).toContain('Choose at least one event type.');
    const mixed = new URLSearchParams({ csrf_token: csrf });
    mixed.append('enabled_events', '*');
    mixed.append('enabled_events', 'refund.succeeded');
    const refused = await t.app.inject({
      method: 'POST',
      url: `/dashboard/webhooks/${endpointId}/events`,
      headers: { cookie: `kassa_session=${developer}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: mixed.toString(),
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('must be either [');
    expect(refused.body).not.toContain('enabled_events must');
  });

  it('rotates the secret once per form; during the overlap deliveries carry both signatures', async () => {
    const html = (await page(t, developer, `/dashboard/webhooks/${endpointId}`)).body;
    const action = `/dashboard/webhooks/${endpointId}/rotate-secret`;
    const fields = { csrf_token: csrfOf(html), form_key: formKeyOf(html, action), overlap: '3600' };
    const rotated = await submit(t, developer, action, fields);
    expect(rotated.statusCode).toBe(201);
    const newSecret = rotated.body.match(SECRET)![0]!;
    expect(newSecret).not.toBe(secret);
    expect(rotated.body).toContain('signed with both the new and the');
    const repeated = await submit(t, developer, action, fields);
    expect(repeated.headers.location).toBe(`/dashboard/webhooks/${endpointId}?notice=already_rotated`);

    const count = receiver.received.filter((r) => r.path === '/ok').length;
    const next = (await page(t, developer, `/dashboard/webhooks/${endpointId}`)).body;
    expect(next).toContain('Previous secret');
    const test = `/dashboard/webhooks/${endpointId}/test`;
    await submit(t, developer, test, { csrf_token: csrfOf(next), form_key: formKeyOf(next, test) });
    await receiver.waitFor((received) => received.filter((r) => r.path === '/ok').length > count);
    const ping = receiver.received.filter((r) => r.path === '/ok')[count]!;
    expect(verifyWebhook(newSecret, ping)).toMatchObject({ type: 'ping' });
    expect(verifyWebhook(secret, ping)).toMatchObject({ type: 'ping' });
  });

  it('lets a viewer and support read the pages but refuses their posts on the server', async () => {
    const readable = await page(t, viewer, `/dashboard/webhooks/${failingEndpointId}`);
    expect(readable.statusCode).toBe(200);
    expect(readable.body).not.toContain('Redeliver');
    expect(readable.body).not.toContain('Rotate secret');
    const list = await page(t, viewer, '/dashboard/webhooks');
    expect(list.body).not.toContain('Add an endpoint');
    const developerPage = (await page(t, developer, `/dashboard/webhooks/${failingEndpointId}`)).body;
    const deliveryId = /\/deliveries\/(del_[A-Za-z0-9]+)\/redeliver/.exec(developerPage)![1]!;
    for (const session of [viewer, support]) {
      const own = (await page(t, session, '/dashboard/webhooks')).body;
      expect((await page(t, session, '/dashboard/events')).statusCode).toBe(200);
      const csrf_token = csrfOf(own);
      const form_key = 'a'.repeat(32);
      const posts: [string, Record<string, string>][] = [
        ['/dashboard/webhooks', { url: `${receiver.url}/viewer`, enabled_events: '*', form_key }],
        [`/dashboard/webhooks/${endpointId}/status`, { status: 'disabled' }],
        [`/dashboard/webhooks/${endpointId}/events`, { enabled_events: '*' }],
        [`/dashboard/webhooks/${endpointId}/rotate-secret`, { overlap: '0', form_key }],
        [`/dashboard/webhooks/${endpointId}/test`, { form_key }],
        [`/dashboard/webhooks/${failingEndpointId}/deliveries/${deliveryId}/redeliver`, { form_key }],
      ];
      for (const [url, fields] of posts) {
        const response = await submit(t, session, url, { csrf_token, ...fields });
        expect(response.statusCode, url).toBe(403);
        expect(response.body).toContain('may not change webhooks');
      }
    }
    expect(await endpointsOf(merchant.headers)).toHaveLength(2);
    expect((await endpointsOf(merchant.headers)).find((e) => e.id === endpointId)!.status).toBe('ENABLED');
  });

  it("keeps another merchant's endpoints, deliveries and events out of reach", async () => {
    const outsider = await signIn(t, 'owner@other.test');
    expect((await page(t, outsider, `/dashboard/webhooks/${endpointId}`)).statusCode).toBe(404);
    const list = await page(t, outsider, '/dashboard/webhooks');
    expect(list.body).not.toContain(endpointId);
    const events = await page(t, outsider, '/dashboard/events');
    expect(events.body).toContain('No events match.');
    const html = (await page(t, developer, `/dashboard/webhooks/${failingEndpointId}`)).body;
    const deliveryId = /\/deliveries\/(del_[A-Za-z0-9]+)\/redeliver/.exec(html)![1]!;
    const own = (await page(t, outsider, '/dashboard/webhooks')).body;
    const refused = await submit(
      t,
      outsider,
      `/dashboard/webhooks/${failingEndpointId}/deliveries/${deliveryId}/redeliver`,
      { csrf_token: csrfOf(own), form_key: 'b'.repeat(32) },
    );
    expect(refused.statusCode).toBe(404);
  });

  it('sends the example of the event type chosen in the select, signed, to that endpoint only', async () => {
    const { first } = await createThroughForm('/typed', ['checkout.completed']);
    expect(first.statusCode).toBe(201);
    const typedSecret = first.body.match(SECRET)![0]!;
    const typedId = (await endpointsOf(merchant.headers)).find((e) => e.url.endsWith('/typed'))!.id;
    const before = await page(t, developer, `/dashboard/webhooks/${typedId}`);
    expect(before.body).toContain('<select id="test-event-type" name="type">');
    expect(before.body).toContain('<option value="payment.succeeded">payment.succeeded</option>');
    expect(before.body).toMatch(/<option value="ping" selected(="")?>ping<\/option>/);
    const action = `/dashboard/webhooks/${typedId}/test`;
    const unknown = await submit(t, developer, action, {
      csrf_token: csrfOf(before.body),
      form_key: formKeyOf(before.body, action),
      type: 'payment.nonsense',
    });
    expect(unknown.headers.location).toBe(`/dashboard/webhooks/${typedId}?error=validation_failed`);
    const sent = await submit(t, developer, action, {
      csrf_token: csrfOf(before.body),
      form_key: formKeyOf(before.body, action),
      type: 'payment.succeeded',
    });
    expect(sent.headers.location).toBe(`/dashboard/webhooks/${typedId}?notice=test_sent`);
    await receiver.waitFor((received) => received.some((r) => r.path === '/typed'));
    const [received] = receiver.received.filter((r) => r.path === '/typed');
    expect(verifyWebhook(typedSecret, received!)).toMatchObject({
      type: 'payment.succeeded',
      data: { object: 'payment', status: 'SUCCEEDED', livemode: false },
    });
  });
});
