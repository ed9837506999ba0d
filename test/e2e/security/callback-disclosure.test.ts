import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileEgressPolicy, mayDiscloseResponse } from '../../../src/egress/egress-policy.ts';
import { parseIpAddress } from '../../../src/egress/index.ts';
import { proxyPathFor } from '../../../src/modules/callbacks/callback-proxy-url.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  callbackAttemptsOf,
  createCallbackCheckout,
  paymentsOfCheckout,
  startCallbackReceiver,
  type CallbackReceiver,
} from '../callbacks/callback-fixtures.ts';
import { CARDS, cardForm, csrfOf, getPage, postForm } from '../hosted-page/hosted-fixtures.ts';

/**
 * Outside production Kassa's callbacks reach loopback (a shop on the developer's machine), but what a target
 * production would refuse answers is never shown — not to the shopper, not on the order timeline, not
 * through the resource proxy — or any merchant could read local services through Kassa (docs/callbacks.md).
 * The receiver here plays such a local service: 127.0.0.1, not allow-listed.
 */

const SECRET = 'INTERNAL-ADMIN-TOKEN-7f3c';

let t: TestApp;
let local: CallbackReceiver;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({
    env: {
      KASSA_ENV: 'development',
      KASSA_CALLBACK_CONNECT_TIMEOUT_MS: '500',
      KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: '1000',
    },
  });
  local = await startCallbackReceiver();
  merchant = await t.createMerchant({ name: 'Curious Shop' });
});

afterAll(async () => {
  await local.close();
  await t.close();
});

async function pay(path: string) {
  const page = await getPage(t, path);
  return postForm(t, path, cardForm(csrfOf(page.html), CARDS.approved));
}

async function timelineAttempts(orderId: string) {
  const response = await t.app.inject({
    method: 'GET',
    url: `/v1/orders/${orderId}/timeline`,
    headers: merchant.headers,
  });
  expect(response.statusCode).toBe(200);
  const { data } = response.json() as { data: { kind: string; attempt?: Record<string, unknown> }[] };
  return data.filter((entry) => entry.kind === 'callback_attempt').map((entry) => entry.attempt!);
}

describe('answers from targets production refuses', () => {
  it('an ok callback onto a loopback service: the request is sent, its page is not shown', async () => {
    local.on('/admin', {
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: `<h1>Admin</h1><p>${SECRET}</p>`,
    });
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${local.url}/admin` });
    const response = await pay(checkout.path);
    expect(local.receivedAt('/admin')).toHaveLength(1); // development still reaches loopback
    expect(response.status).toBe(502);
    expect(response.html).not.toContain(SECRET);
    expect(response.html).toContain('Pay'); // Kassa's own error page
    const attempts = await timelineAttempts(checkout.orderId);
    expect(attempts).toMatchObject([
      { kind: 'ok', status_code: 200, result: 'error', response_excerpt: null },
    ]);
    expect(JSON.stringify(attempts)).not.toContain(SECRET);
  });

  it('an error answer of an ok callback is not excerpted on the timeline', async () => {
    local.on('/admin-500', { status: 500, body: SECRET });
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${local.url}/admin-500` });
    await pay(checkout.path);
    const rows = await callbackAttemptsOf(t, checkout.orderId);
    expect(rows).toMatchObject([{ kind: 'ok', status_code: 500, response_excerpt: null }]);
    expect(JSON.stringify(await timelineAttempts(checkout.orderId))).not.toContain(SECRET);
  });

  it('verify_order onto a loopback service: the veto holds, its body is not the reason shown', async () => {
    local.on('/verify', { status: 200, headers: { 'content-type': 'text/plain' }, body: SECRET });
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${local.url}/verify` });
    const response = await pay(checkout.path);
    expect(response.status).toBe(402);
    expect(response.html).not.toContain(SECRET);
    expect(response.html).toContain('The store refused the order (HTTP 200)');
    const payments = await paymentsOfCheckout(t, checkout.checkoutId);
    expect(payments).toMatchObject([
      { status: 'REJECTED', failure_message: 'The store refused the order (HTTP 200)' },
    ]);
    const attempts = await timelineAttempts(checkout.orderId);
    expect(attempts).toMatchObject([{ kind: 'verify_order', result: 'refused', response_excerpt: null }]);
    expect(JSON.stringify(attempts)).not.toContain(SECRET);
  });

  it('verify_order OKAY from loopback still lets a development payment through (the answer is not shown)', async () => {
    local.on('/verify-ok', { status: 200, body: 'OKAY' });
    const checkout = await createCallbackCheckout(t, merchant, { verify_order: `${local.url}/verify-ok` });
    const response = await pay(checkout.path);
    expect(response.status).toBe(303);
    expect(await paymentsOfCheckout(t, checkout.checkoutId)).toMatchObject([{ status: 'SUCCEEDED' }]);
  });

  it('the resource proxy does not forward loopback images or stylesheets', async () => {
    local.on('/secret.css', {
      status: 200,
      headers: { 'content-type': 'text/css' },
      body: `/* ${SECRET} */`,
    });
    const url = `${local.url}/secret.css`;
    const response = await t.app.inject({ method: 'GET', url: proxyPathFor(t.services.keyring, url) });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain(SECRET);
    expect(local.receivedAt('/secret.css')).toHaveLength(0);
  });
});

describe('the disclosure rule', () => {
  const policy = compileEgressPolicy({ mode: 'development', allowList: [] });
  const own = 'http://127.0.0.1:3000';
  const ip = (text: string) => parseIpAddress(text)!;

  it('hides loopback, private and unresolved targets; shows public ones', () => {
    expect(mayDiscloseResponse(policy, 'http://127.0.0.1:8080/x', [], own)).toBe(false);
    expect(mayDiscloseResponse(policy, 'http://[::1]:8080/x', [], own)).toBe(false);
    expect(mayDiscloseResponse(policy, 'http://localhost:8080/x', [], own)).toBe(false);
    expect(mayDiscloseResponse(policy, 'http://shop.test/x', [ip('127.0.0.1')], own)).toBe(false);
    expect(
      mayDiscloseResponse(policy, 'http://shop.test/x', [ip('93.184.216.34'), ip('127.0.0.1')], own),
    ).toBe(false);
    expect(mayDiscloseResponse(policy, 'http://shop.test/x', [], own)).toBe(false);
    expect(mayDiscloseResponse(policy, 'http://shop.test/x', [ip('93.184.216.34')], own)).toBe(true);
    expect(mayDiscloseResponse(policy, 'https://93.184.216.34/x', [], own)).toBe(true);
  });

  it("shows Kassa's own origin (the demo shop's callbacks) and what the operator allow-lists", () => {
    expect(mayDiscloseResponse(policy, 'http://127.0.0.1:3000/demo/callbacks/ok', [], own)).toBe(true);
    expect(mayDiscloseResponse(policy, 'http://127.0.0.1:3001/demo/callbacks/ok', [], own)).toBe(false);
    const allowing = compileEgressPolicy({ mode: 'development', allowList: ['127.0.0.1:8080', 'shop.test'] });
    expect(mayDiscloseResponse(allowing, 'http://127.0.0.1:8080/x', [], own)).toBe(true);
    expect(mayDiscloseResponse(allowing, 'http://shop.test/x', [ip('127.0.0.1')], own)).toBe(true);
    expect(mayDiscloseResponse(allowing, 'http://127.0.0.1:8081/x', [], own)).toBe(false);
  });
});
