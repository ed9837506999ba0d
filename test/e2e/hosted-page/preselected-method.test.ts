import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createHostedCheckout, getPage } from './hosted-fixtures.ts';

/**
 * `GET /pay/:id/:sig?method=<card|invoice|wallet>`: the method the shopper chose on the merchant's page (the
 * browser SDK appends it) is preselected when the session offers it; otherwise the page's default stands.
 */

const DESKTOP =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

/** The value of the checked payment-method radio of a page. */
function checkedMethod(html: string): string | undefined {
  const inputs = html.match(/<input[^>]*name="payment_method"[^>]*>/g) ?? [];
  const checked = inputs.filter((input) => /\schecked(\s|>|\/)/.test(input));
  expect(checked.length).toBeLessThanOrEqual(1);
  return checked[0] ? /value="([^"]+)"/.exec(checked[0])?.[1] : undefined;
}

describe('hosted page: preselected method from ?method=', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let path: string;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
    // DKK in DK: card and invoice are eligible on desktop; wallet is offered on mobile only.
    path = (await createHostedCheckout(t, merchant, { currency: 'DKK', country: 'DK', amount: 34_900 })).path;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('selects the first method without a choice', async () => {
    const page = await getPage(t, path, { 'user-agent': DESKTOP });
    expect(page.status).toBe(200);
    expect(checkedMethod(page.html)).toBe('card');
  });

  it('preselects an eligible method named in the query', async () => {
    const page = await getPage(t, `${path}?method=invoice`, { 'user-agent': DESKTOP });
    expect(page.status).toBe(200);
    expect(checkedMethod(page.html)).toBe('invoice');
  });

  it('ignores a method the session does not offer, and anything that is not a method', async () => {
    for (const method of ['wallet', 'bitcoin', '', 'invoice"><script>']) {
      const page = await getPage(t, `${path}?method=${encodeURIComponent(method)}`, {
        'user-agent': DESKTOP,
      });
      expect(page.status).toBe(200);
      expect(checkedMethod(page.html)).toBe('card');
      expect(page.html).not.toContain('<script>');
    }
  });
});
