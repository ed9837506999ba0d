import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { findMerchantById } from '../../../src/modules/merchants/merchant.repository.ts';
import { addUser, page, shopHelpers, signIn, submit } from './dashboard-fixtures.ts';

/**
 * The dashboard's shop pages through app.inject: Settings (branding with its preview, terminal settings,
 * payment methods) and the test/live switch. Payment links, checkouts and the CSV export:
 * dashboard-shop-links.test.ts.
 */
describe('dashboard shop pages', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;
  let owner: string;
  let developer: string;
  let support: string;
  let viewer: string;

  const { form, checkoutFor, csvRows, auditActions } = shopHelpers(
    () => testApp,
    () => merchant,
  );

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant({ name: 'Shop Settings Ltd' });
    await addUser(testApp, merchant.merchantId, 'owner@shop-settings.test', 'owner');
    await addUser(testApp, merchant.merchantId, 'dev@shop-settings.test', 'developer');
    await addUser(testApp, merchant.merchantId, 'support@shop-settings.test', 'support');
    await addUser(testApp, merchant.merchantId, 'viewer@shop-settings.test', 'viewer');
    owner = await signIn(testApp, 'owner@shop-settings.test');
    developer = await signIn(testApp, 'dev@shop-settings.test');
    support = await signIn(testApp, 'support@shop-settings.test');
    viewer = await signIn(testApp, 'viewer@shop-settings.test');
  });
  afterAll(() => testApp.close());

  describe('settings', () => {
    it('shows branding with a framed preview to those who may read it, and the Save buttons only to those who may change it', async () => {
      const { html } = await form(owner, '/dashboard/settings');
      expect(html).toContain('value="Shop Settings Ltd"');
      expect(html).toContain('Save branding');
      expect(html).toMatch(/<iframe[^>]+name="branding-preview"[^>]+src="\/dashboard\/settings\/preview\?/);
      const response = await page(testApp, owner, '/dashboard/settings');
      expect(response.headers['content-security-policy']).toContain("frame-src 'self'");
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");

      const read = await form(viewer, '/dashboard/settings');
      expect(read.html).not.toContain('Save branding');
      expect(read.html).toContain('may see these settings but not change them');
      expect(read.html).toContain('Preview');
    });

    it('refuses a change from support and viewer roles on the server, and changes nothing', async () => {
      for (const session of [support, viewer]) {
        const { csrf } = await form(session, '/dashboard/settings');
        const response = await submit(testApp, session, '/dashboard/settings/branding', {
          csrf_token: csrf,
          display_name: 'Hijacked',
          logo_url: '',
          primary_color: '',
        });
        expect(response.statusCode).toBe(403);
        const terminal = await submit(testApp, session, '/dashboard/settings/terminal', {
          csrf_token: csrf,
          default_capture_mode: 'manual',
          default_locale: 'EN',
          session_lifetime_minutes: '60',
        });
        expect(terminal.statusCode).toBe(403);
      }
      const stored = await findMerchantById(testApp.database.db, merchant.merchantId);
      expect(stored!.displayName).not.toBe('Hijacked');
    });

    it('previews unsaved branding with the hosted page renderer, framable only by the dashboard, without saving it', async () => {
      const query = new URLSearchParams({
        display_name: 'Preview Bakery',
        logo_url: 'https://cdn.example/bakery.png',
        primary_color: '#aa3300',
      });
      const response = await page(testApp, viewer, `/dashboard/settings/preview?${query}`);
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('Preview Bakery');
      expect(response.body).toContain('src="https://cdn.example/bakery.png"');
      expect(response.body).toContain('--brand:#aa3300');
      expect(response.body).toContain('PREVIEW-1001');
      expect(response.body).not.toContain('<script');
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'self'");
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');

      // The form's Preview button posts (CSRF-checked) into the frame.
      const { csrf } = await form(owner, '/dashboard/settings');
      const posted = await submit(testApp, owner, '/dashboard/settings/preview', {
        csrf_token: csrf,
        display_name: 'Posted Preview',
        logo_url: 'javascript:alert(1)',
        primary_color: 'red;}body{display:none',
      });
      expect(posted.statusCode).toBe(200);
      expect(posted.body).toContain('Posted Preview');
      expect(posted.body).not.toContain('javascript:');
      expect(posted.body).not.toContain('display:none');
      const forged = await submit(testApp, owner, '/dashboard/settings/preview', { csrf_token: 'x' });
      expect(forged.statusCode).toBe(403);

      const stored = await findMerchantById(testApp.database.db, merchant.merchantId);
      expect(stored!.displayName).not.toBe('Preview Bakery');
    });

    it('saves branding through the merchant settings service: the hosted page of a new checkout shows it, and the change is audited', async () => {
      const { csrf } = await form(developer, '/dashboard/settings');
      const response = await submit(testApp, developer, '/dashboard/settings/branding', {
        csrf_token: csrf,
        display_name: 'Nordlys Kaffe',
        logo_url: 'https://cdn.nordlys.example/logo.png',
        primary_color: '#0b6e4f',
      });
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/dashboard/settings?notice=branding_saved');
      const saved = await page(testApp, developer, response.headers.location!);
      expect(saved.body).toContain('Branding saved');
      expect(saved.body).toContain('value="Nordlys Kaffe"');

      const api = await testApp.app.inject({ method: 'GET', url: '/v1/merchant', headers: merchant.headers });
      expect(api.json()).toMatchObject({
        display_name: 'Nordlys Kaffe',
        branding: { logo_url: 'https://cdn.nordlys.example/logo.png', primary_color: '#0b6e4f' },
      });

      const checkout = await checkoutFor('BRAND-1', { email: 'brand@customer.test' });
      const hosted = await testApp.app.inject({
        method: 'GET',
        url: new URL(checkout.checkout_redirect_url).pathname,
      });
      expect(hosted.statusCode).toBe(200);
      expect(hosted.body).toContain('Nordlys Kaffe');
      expect(hosted.body).toContain('src="https://cdn.nordlys.example/logo.png"');
      expect(hosted.body).toContain('--brand:#0b6e4f');

      const audited = await auditActions('merchant.settings_updated');
      expect(audited.at(-1)).toMatchObject({
        actor_label: 'dev@shop-settings.test',
        details: { display_name: 'Nordlys Kaffe' },
      });
    });

    it('accepts only the logo URLs the API accepts: never a script URL, and https only in live mode', async () => {
      const { csrf } = await form(owner, '/dashboard/settings');
      const refused = await submit(testApp, owner, '/dashboard/settings/branding', {
        csrf_token: csrf,
        display_name: 'Nordlys Kaffe',
        logo_url: 'javascript:alert(1)',
        primary_color: '#0b6e4f',
      });
      expect(refused.statusCode).toBe(422);
      expect(refused.body).toContain('The settings were not saved');
      expect(refused.body).toMatch(/Logo URL: /);
      expect(refused.body).toContain('value="javascript:alert(1)"');

      const badColour = await submit(testApp, owner, '/dashboard/settings/branding', {
        csrf_token: csrf,
        display_name: 'Nordlys Kaffe',
        logo_url: '',
        primary_color: 'green',
      });
      expect(badColour.statusCode).toBe(422);
      expect(badColour.body).toContain('Brand colour: must be a colour in the form #rrggbb');

      // In live mode plain http is refused too, as PATCH /v1/merchant refuses it from live credentials.
      expect(
        (await submit(testApp, owner, '/dashboard/mode', { csrf_token: csrf, mode: 'live' })).statusCode,
      ).toBe(303);
      const live = await form(owner, '/dashboard/settings');
      const http = await submit(testApp, owner, '/dashboard/settings/branding', {
        csrf_token: live.csrf,
        display_name: 'Nordlys Kaffe',
        logo_url: 'http://cdn.nordlys.example/logo.png',
        primary_color: '#0b6e4f',
      });
      expect(http.statusCode).toBe(422);
      expect(http.body).toMatch(/Logo URL: [^<]*https/);
      await submit(testApp, owner, '/dashboard/mode', { csrf_token: live.csrf, mode: 'test' });

      const stored = await findMerchantById(testApp.database.db, merchant.merchantId);
      expect(stored!.logoUrl).toBe('https://cdn.nordlys.example/logo.png');
    });

    it('saves terminal settings (callbacks, capture, language, lifetime) that new checkouts inherit, and refuses a bad callback URL', async () => {
      const { csrf } = await form(owner, '/dashboard/settings');
      const fields = {
        csrf_token: csrf,
        callback_ok: 'https://shop.example/kassa/ok',
        callback_fail: 'https://shop.example/kassa/fail',
        callback_open: '',
        callback_notification: 'https://shop.example/kassa/notify',
        callback_verify_order: '',
        default_capture_mode: 'manual',
        default_locale: 'DA',
        session_lifetime_minutes: '45',
      };
      const response = await submit(testApp, owner, '/dashboard/settings/terminal', fields);
      expect(response.statusCode).toBe(303);
      const stored = await findMerchantById(testApp.database.db, merchant.merchantId);
      expect(stored).toMatchObject({
        defaultCapture: 'manual',
        defaultLocale: 'DA',
        defaultSessionLifetimeSeconds: 2700,
        defaultCallbacks: {
          ok: 'https://shop.example/kassa/ok',
          fail: 'https://shop.example/kassa/fail',
          notification: 'https://shop.example/kassa/notify',
        },
      });
      expect(stored!.defaultCallbacks.open).toBeUndefined();
      const checkout = await checkoutFor('TERMINAL-1', { email: 'terminal@customer.test' });
      expect(checkout).toMatchObject({ capture_mode: 'manual' });
      expect(checkout.callbacks).toMatchObject({ ok: 'https://shop.example/kassa/ok' });

      const refused = await submit(testApp, owner, '/dashboard/settings/terminal', {
        ...fields,
        callback_ok: 'ftp://shop.example/ok',
        session_lifetime_minutes: '0',
      });
      expect(refused.statusCode).toBe(422);
      expect(refused.body).toContain('Checkout lifetime');
      expect(refused.body).toContain('value="ftp://shop.example/ok"');
      // Put the defaults back for the tests after this one (automatic capture, no callbacks).
      await submit(testApp, owner, '/dashboard/settings/terminal', {
        csrf_token: csrf,
        default_capture_mode: 'automatic',
        default_locale: 'EN',
        session_lifetime_minutes: '60',
      });
      expect((await findMerchantById(testApp.database.db, merchant.merchantId))!.defaultCallbacks).toEqual(
        {},
      );
    });

    it('changes a payment method through the payment-method settings service, and explains why it is hidden for a checkout', async () => {
      const { csrf } = await form(owner, '/dashboard/settings');
      const response = await submit(testApp, owner, '/dashboard/settings/payment-methods/wallet', {
        csrf_token: csrf,
        countries: '',
        currencies: '',
        min_amount: '',
        max_amount: '',
        display_order: '3',
      });
      expect(response.statusCode).toBe(303);
      const api = await testApp.app.inject({
        method: 'GET',
        url: '/v1/payment-method-settings',
        headers: merchant.headers,
      });
      const wallet = (api.json() as { data: { method: string; enabled: boolean }[] }).data.find(
        (setting) => setting.method === 'wallet',
      );
      expect(wallet!.enabled).toBe(false);

      const checkout = await checkoutFor('WHY-1', { email: 'why@customer.test' }, 50);
      const why = await page(
        testApp,
        viewer,
        `/dashboard/settings?checkout=${checkout.checkout_id}&device=mobile`,
      );
      expect(why.body).toContain(
        'wallet</strong> is hidden: wallet is disabled in the payment method settings',
      );
      expect(why.body).toMatch(/invoice<\/strong> is hidden: invoice needs an amount of at least/);

      const badRange = await submit(testApp, owner, '/dashboard/settings/payment-methods/invoice', {
        csrf_token: csrf,
        enabled: 'on',
        min_amount: '5000',
        max_amount: '100',
        display_order: '2',
      });
      expect(badRange.statusCode).toBe(422);
      expect(badRange.body).toContain('must be at most max_amount (100); got 5000');
      expect((await auditActions('payment_method_settings.updated')).length).toBe(1);
    });
  });

  describe('test/live switch', () => {
    it('refuses live mode to a person without two-factor sign-in, and says how to get it', async () => {
      const { csrf } = await form(support, '/dashboard/orders');
      const refused = await submit(testApp, support, '/dashboard/mode', { csrf_token: csrf, mode: 'live' });
      expect(refused.statusCode).toBe(403);
      expect(refused.body).toContain('Live mode needs two-factor sign-in');
      // Still signed in, still in test mode.
      expect((await page(testApp, support, '/dashboard/orders')).body).toContain('class="dash-testmode"');
    });

    it('switches the session between test and live: the banner, the badge and every list follow', async () => {
      await checkoutFor('MODE-1', { email: 'mode@customer.test' });
      // The owner has two-factor on (the fixture enrols owners), which live mode needs.
      const { html, csrf } = await form(owner, '/dashboard/orders');
      expect(html).toContain('class="dash-testmode"');
      expect(html).toContain('MODE-1');
      expect(html).toContain('Switch to live');

      const switched = await submit(testApp, owner, '/dashboard/mode', { csrf_token: csrf, mode: 'live' });
      expect(switched.statusCode).toBe(303);
      // Sent twice, it leaves the session in live mode (the form names the mode, it does not toggle).
      await submit(testApp, owner, '/dashboard/mode', { csrf_token: csrf, mode: 'live' });
      const live = await page(testApp, owner, '/dashboard/orders');
      expect(live.body).not.toContain('class="dash-testmode"');
      expect(live.body).toContain('Live mode');
      expect(live.body).toContain('Switch to test');
      expect(live.body).not.toContain('MODE-1');
      const liveCsv = await page(testApp, owner, '/dashboard/orders.csv');
      expect(csvRows(liveCsv.body)).toHaveLength(1);
      const checkouts = await page(testApp, owner, '/dashboard/checkouts');
      expect(checkouts.body).toContain('No checkouts.');

      const forged = await submit(testApp, owner, '/dashboard/mode', { csrf_token: 'nope', mode: 'test' });
      expect(forged.statusCode).toBe(403);
      await submit(testApp, owner, '/dashboard/mode', { csrf_token: csrf, mode: 'test' });
      expect((await page(testApp, owner, '/dashboard/orders')).body).toContain('MODE-1');
      expect((await auditActions('user.mode_switched')).map((row) => row.details.livemode)).toContain(true);
    });
  });
});
