import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createHostedCheckout, getPage } from './hosted-fixtures.ts';

const MOBILE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148';
const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36';

function radioValues(html: string): string[] {
  return [...html.matchAll(/type="radio"[\s\S]*?value="([^"]+)"/g)].map((match) => match[1]!);
}

describe('the hosted payment page', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant({ name: 'Nordlys Outdoor' });
    const branded = await t.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: merchant.headers,
      payload: {
        display_name: 'Nordlys Outdoor AS',
        branding: { logo_url: 'https://cdn.shop.example/logo.png', primary_color: '#0f766e' },
      },
    });
    expect(branded.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('renders the order, the branding, the methods and the card form, with strict page headers', async () => {
    const checkout = await createHostedCheckout(t, merchant, { amount: 16191, merchantOrderId: 'NO-10482' });
    const page = await getPage(t, checkout.path, { 'user-agent': DESKTOP_UA });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.html).toContain('Nordlys Outdoor AS');
    expect(page.html).toContain('src="https://cdn.shop.example/logo.png"');
    expect(page.html).toContain('--brand:#0f766e');
    expect(page.html).toContain('Order NO-10482');
    expect(page.html).toContain('Trail shoes');
    expect(page.html).toContain('Pay $161.91');
    expect(page.html).toContain('Cancel and return to the store');
    for (const autocomplete of ['cc-name', 'cc-number', 'cc-exp', 'cc-csc'])
      expect(page.html).toContain(`autocomplete="${autocomplete}"`);
    expect(page.html).toContain(`action="${checkout.path}"`);
    expect(page.html).toContain(`action="${checkout.path}/cancel"`);
    expect(page.html).toContain('Test mode');

    const csp = String(page.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([^']+)' 'self'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(page.html).toContain(
      `<script src="/public/checkout/checkout.js" nonce="${nonce}" defer></script>`,
    );
    const scriptSrc = csp.split(';').find((directive) => directive.trim().startsWith('script-src'))!;
    expect(scriptSrc).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' https://shop.example");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');

    // A fresh nonce on every response.
    const again = await getPage(t, checkout.path);
    expect(again.headers['content-security-policy']).not.toBe(csp);
  });

  it('offers the methods eligible for the device from the User-Agent', async () => {
    const checkout = await createHostedCheckout(t, merchant, {
      currency: 'DKK',
      country: 'DK',
      locale: 'DA',
    });
    expect(radioValues((await getPage(t, checkout.path, { 'user-agent': DESKTOP_UA })).html)).toEqual([
      'card',
      'invoice',
    ]);
    expect(radioValues((await getPage(t, checkout.path, { 'user-agent': MOBILE_UA })).html)).toEqual([
      'card',
      'invoice',
      'wallet',
    ]);
  });

  it('speaks Danish and Spanish (Latin America) by the checkout locale, with local money formats', async () => {
    const danish = await getPage(
      t,
      (
        await createHostedCheckout(t, merchant, {
          currency: 'DKK',
          country: 'DK',
          locale: 'DA',
          amount: 599500,
        })
      ).path,
    );
    expect(danish.html).toContain('<html lang="da">');
    expect(danish.html).toContain('Betal 5.995,00');
    expect(danish.html).toContain('Annuller og vend tilbage til butikken');
    const spanish = await getPage(
      t,
      (
        await createHostedCheckout(t, merchant, {
          currency: 'MXN',
          country: 'MX',
          locale: 'ES_LATAM',
          amount: 990,
        })
      ).path,
    );
    expect(spanish.html).toContain('<html lang="es-419">');
    expect(spanish.html).toContain('Pagar');
    expect(spanish.html).toContain('Número de tarjeta');
    expect(spanish.html).toContain('9.90');
    // A Mexican order in Spanish: pesos are "$".
    expect(spanish.html).toContain('Pagar $9.90');
  });

  it("a checkout without a locale has locale null and follows the shopper's Accept-Language", async () => {
    const created = await createHostedCheckout(t, merchant, {
      locale: null,
      currency: 'EUR',
      country: 'DE',
      amount: 990,
    });
    const api = await t.app.inject({
      method: 'GET',
      url: `/v1/checkouts/${created.checkoutId}`,
      headers: merchant.headers,
    });
    expect(api.json()).toMatchObject({ locale: null });
    const german = await getPage(t, created.path, { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' });
    expect(german.html).toContain('<html lang="de">');
    expect(german.html).toContain('Kartennummer');
    expect(german.html.replace(/\u00a0/g, ' ')).toContain('9,90 €');
    const french = await getPage(t, created.path, { 'accept-language': 'ja, fr-BE;q=0.8' });
    expect(french.html).toContain('<html lang="fr">');
    // Plain `es` is Latin American Spanish; `es-ES` is Spain's.
    expect((await getPage(t, created.path, { 'accept-language': 'es' })).html).toContain(
      '<html lang="es-419">',
    );
    expect((await getPage(t, created.path, { 'accept-language': 'es-ES' })).html).toContain(
      '<html lang="es-ES">',
    );
    // Nothing the pages speak: the merchant's default (EN).
    expect((await getPage(t, created.path, { 'accept-language': 'ja, zh' })).html).toContain(
      '<html lang="en">',
    );
    expect((await getPage(t, created.path)).html).toContain('<html lang="en">');
  });

  it('a cut checkout URL and unknown pages: an HTML page for browsers, a problem document for API clients', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const [, , id] = checkout.path.split('/') as [string, string, string];
    const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const cut = await getPage(t, `/pay/${id}`, { accept: browserAccept, 'accept-language': 'da' });
    expect(cut.status).toBe(404);
    expect(cut.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(cut.html).toContain('<html lang="da">');
    expect(cut.html).toContain('Linket til betalingssiden er ikke gyldigt');
    const unknown = await getPage(t, '/no/such/page', { accept: browserAccept });
    expect(unknown.status).toBe(404);
    expect(unknown.html).toContain('Page not found');
    expect(unknown.html).not.toContain('checkout link');
    for (const path of [`/pay/${id}`, '/no/such/page']) {
      const api = await getPage(t, path, { accept: 'application/json' });
      expect(api.status).toBe(404);
      expect(api.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(api.html)).toMatchObject({ status: 404 });
    }
  });

  it('an explicit locale wins over Accept-Language; an unsupported one falls back by language', async () => {
    const danish = await createHostedCheckout(t, merchant, { locale: 'DA', currency: 'DKK', country: 'DK' });
    expect((await getPage(t, danish.path, { 'accept-language': 'de' })).html).toContain('<html lang="da">');
    const austrian = await createHostedCheckout(t, merchant, {
      locale: 'de-AT',
      currency: 'EUR',
      country: 'AT',
    });
    expect((await getPage(t, austrian.path)).html).toContain('<html lang="de">');
    const japanese = await createHostedCheckout(t, merchant, {
      locale: 'ja-JP',
      currency: 'JPY',
      country: 'JP',
    });
    expect((await getPage(t, japanese.path, { 'accept-language': 'fr' })).html).toContain('<html lang="en">');
  });

  it('shows JPY without decimals', async () => {
    const page = await getPage(
      t,
      (await createHostedCheckout(t, merchant, { currency: 'JPY', country: 'JP', amount: 6520 })).path,
    );
    expect(page.html).toContain('Pay ¥6,520');
    expect(page.html).not.toContain('¥6,520.00');
  });

  it('answers a wrong signature and an unknown checkout with the same 404 page', async () => {
    const checkout = await createHostedCheckout(t, merchant);
    const [, , id, signature] = checkout.path.split('/') as [string, string, string, string];
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    const wrongSignature = await getPage(t, `/pay/${id}/${flipped}`);
    const unknownId = await getPage(t, `/pay/chk_${'0'.repeat(32)}/${signature}`);
    const garbage = await getPage(t, `/pay/${id}/not-a-signature`);
    const strip = (html: string) => html.replace(/nonce="[^"]+"/g, '');
    for (const response of [wrongSignature, unknownId, garbage]) {
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(response.html).toContain('This checkout link is not valid');
      expect(response.html).not.toContain('payment link');
      expect(response.html).not.toContain('Nordlys');
    }
    expect(strip(wrongSignature.html)).toBe(strip(unknownId.html));
    expect(strip(garbage.html)).toBe(strip(unknownId.html));
    const postToWrong = await t.app.inject({ method: 'POST', url: `/pay/${id}/${flipped}`, payload: {} });
    expect(postToWrong.statusCode).toBe(404);
  });

  it('serves the page assets from /public with their type, nosniff, a short cache and revalidation', async () => {
    const script = await t.app.inject({ method: 'GET', url: '/public/checkout/checkout.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect(script.headers['cache-control']).toBe('public, max-age=300, must-revalidate');
    // What is served is what docs/page-scripts.md inventories (PCI DSS 6.4.3).
    const inventory = readFileSync(new URL('../../../docs/page-scripts.md', import.meta.url), 'utf8');
    const served = `sha384-${createHash('sha384').update(script.rawPayload).digest('base64')}`;
    expect(inventory).toContain(`| \`/public/checkout/checkout.js\` |`);
    expect(inventory).toContain(served);

    const revalidated = await t.app.inject({
      method: 'GET',
      url: '/public/checkout/checkout.js',
      headers: { 'if-none-match': String(script.headers.etag) },
    });
    expect(revalidated.statusCode).toBe(304);
    const css = await t.app.inject({ method: 'GET', url: '/public/checkout/checkout.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    for (const url of [
      '/public/checkout/missing.js',
      '/public/../package.json',
      '/public/%2e%2e/package.json',
    ]) {
      const missing = await t.app.inject({ method: 'GET', url });
      expect(missing.statusCode, url).toBe(404);
      expect(missing.body).not.toContain('"name"');
    }
  });
});
