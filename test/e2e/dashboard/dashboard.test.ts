import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import { createPaymentCheckout, get, payByApi, type PaymentJson } from '../payments/payment-fixtures.ts';
import {
  PASSWORD,
  addUser,
  attemptSignIn,
  cookiesOf,
  csrfOf,
  formKeyOf,
  page,
  signIn,
  submit,
} from './dashboard-fixtures.ts';

/** The merchant dashboard through app.inject: sign-in, sessions, CSRF, roles, search and money actions. */
describe('dashboard', () => {
  const clock = createManualClock(new Date());
  let testApp: TestApp;
  let merchant: TestMerchant;
  let other: TestMerchant;
  let paid: PaymentJson;
  let authorized: PaymentJson;

  async function pay(options: { capture: 'automatic' | 'manual'; email: string; orderId: string }) {
    const checkout = await createPaymentCheckout(testApp, merchant, {
      capture: options.capture,
      amount: 1000,
      customerEmail: options.email,
      merchantOrderId: options.orderId,
    });
    const response = await payByApi(testApp, merchant, checkout.checkout_id);
    expect(response.statusCode).toBe(201);
    return response.json() as PaymentJson;
  }

  beforeAll(async () => {
    testApp = await createTestApp({ clock });
    merchant = await testApp.createMerchant({ name: 'Dashboard Shop' });
    other = await testApp.createMerchant({ name: 'Other Shop' });
    await addUser(testApp, merchant.merchantId, 'owner@shop.test', 'owner');
    await addUser(testApp, merchant.merchantId, 'support@shop.test', 'support');
    await addUser(testApp, merchant.merchantId, 'viewer@shop.test', 'viewer');
    await addUser(testApp, other.merchantId, 'owner@other.test', 'owner');
    paid = await pay({ capture: 'automatic', email: 'ada@customer.test', orderId: 'SHOP-1001' });
    authorized = await pay({ capture: 'manual', email: 'grace@customer.test', orderId: 'SHOP-1002' });
  });
  afterAll(() => testApp.close());

  it('serves a sign-in form labelled Email and Password under a strict CSP, with an http-only cookie', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/dashboard/sign-in' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toMatch(/<label class="field__label" for="email">\s*Email\s*<\/label>/);
    expect(response.body).toMatch(/<label class="field__label" for="password">\s*Password\s*<\/label>/);
    const csp = String(response.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.body).toContain(`href="/public/checkout/checkout.css" nonce="${nonce}"`);
    expect(response.body).not.toMatch(/<script|style="/);
    expect(response.headers['x-frame-options']).toBe('DENY');
    const cookie = cookiesOf(response).get('kassa_signin')!.raw;
    // A plain-http gateway (the test's public URL) uses a non-Secure cookie without the __Host- prefix.
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
  });

  it('sends a visitor without a session to the sign-in page', async () => {
    for (const url of ['/dashboard', '/dashboard/orders', `/dashboard/orders/${paid.order_id}`]) {
      const response = await testApp.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(303);
      expect(response.headers.location).toBe('/dashboard/sign-in');
    }
    const forged = await page(testApp, 'A'.repeat(43), '/dashboard');
    expect(forged.statusCode).toBe(303);
  });

  it('signs in with a new session id, stores only its hash and an argon2id password hash', async () => {
    // Support signs in with a password alone; owners take the second step (dashboard-two-factor.test.ts).
    const attempt = await attemptSignIn(testApp, 'SUPPORT@shop.test', PASSWORD);
    expect(attempt.statusCode).toBe(303);
    expect(attempt.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const second = await signIn(testApp, 'support@shop.test');
    expect(second).not.toBe(attempt.session);
    const { rows } = await testApp.database.pool.query(
      `SELECT u.password_hash, s.id_hash FROM dashboard_users u JOIN dashboard_sessions s ON s.user_id = u.id
        WHERE u.email_normalized = 'support@shop.test'`,
    );
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(rows.map((row) => row.id_hash.toString('base64url'))).not.toContain(attempt.session);
    const home = await page(testApp, attempt.session!, '/dashboard');
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('Dashboard Shop');
    expect(home.body).toContain('Test mode');
  });

  it('refuses a wrong password, and locks the account for 30 minutes after 10 failures in a row', async () => {
    const email = 'locked@shop.test';
    await addUser(testApp, merchant.merchantId, email, 'viewer');
    for (let i = 1; i <= 9; i++) {
      const attempt = await attemptSignIn(testApp, email, 'wrong password!', '10.0.0.9');
      expect(attempt.statusCode).toBe(401);
      expect(attempt.body).toContain('The email or password is not correct.');
      expect(attempt.session).toBeUndefined();
    }
    // The tenth failure locks the account: the right password is then refused too.
    expect((await attemptSignIn(testApp, email, 'wrong password!', '10.0.0.9')).statusCode).toBe(401);
    const refused = await attemptSignIn(testApp, email, PASSWORD, '10.0.0.10');
    expect(refused.statusCode).toBe(423);
    expect(refused.body).toContain('locked');
    expect(refused.session).toBeUndefined();
    clock.advance(29 * 60);
    expect((await attemptSignIn(testApp, email, PASSWORD, '10.0.0.10')).statusCode).toBe(423);
    clock.advance(61);
    expect((await attemptSignIn(testApp, email, PASSWORD, '10.0.0.10')).statusCode).toBe(303);
    // Every failure, the lock, the refusal while locked and the sign-in are in the audit log, with the address.
    const { rows } = await testApp.database.pool.query(
      `SELECT action, actor_type, client_address FROM audit_log WHERE object_id = (
         SELECT id FROM dashboard_users WHERE email_normalized = $1) ORDER BY created_at, id`,
      [email],
    );
    const actions = rows.map((row) => row.action);
    expect(actions.filter((action) => action === 'user.sign_in_failed')).toHaveLength(10);
    expect(actions.filter((action) => action === 'user.locked')).toHaveLength(1);
    expect(actions.filter((action) => action === 'user.sign_in_refused_locked')).toHaveLength(2);
    expect(actions.at(-1)).toBe('user.signed_in');
    expect(rows[0]).toMatchObject({ actor_type: 'user', client_address: '10.0.0.9' });
  });

  it('limits failed sign-ins per client address, whichever accounts they name', async () => {
    for (let i = 0; i < 30; i++) {
      const attempt = await attemptSignIn(testApp, `nobody${i}@shop.test`, 'wrong password!', '10.0.0.20');
      expect(attempt.statusCode).toBe(401);
    }
    const limited = await attemptSignIn(testApp, 'owner@shop.test', PASSWORD, '10.0.0.20');
    expect(limited.statusCode).toBe(429);
    expect(limited.session).toBeUndefined();
    expect((await attemptSignIn(testApp, 'owner@shop.test', PASSWORD, '10.0.0.21')).statusCode).toBe(303);
  });

  it('refuses a sign-in form without its CSRF token', async () => {
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/dashboard/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email: 'owner@shop.test', password: PASSWORD }).toString(),
    });
    expect(response.statusCode).toBe(403);
    expect(cookiesOf(response).get('kassa_session')).toBeUndefined();
  });

  it('ends a session after 15 idle minutes', async () => {
    const session = await signIn(testApp, 'viewer@shop.test');
    clock.advance(14 * 60);
    expect((await page(testApp, session, '/dashboard')).statusCode).toBe(200);
    clock.advance(14 * 60); // still alive: the last request was 14 minutes ago
    expect((await page(testApp, session, '/dashboard')).statusCode).toBe(200);
    clock.advance(16 * 60);
    expect((await page(testApp, session, '/dashboard')).statusCode).toBe(303);
  });

  it('finds orders by customer e-mail, order number, last 4, payment id and amount, filters staying in the URL', async () => {
    const session = await signIn(testApp, 'viewer@shop.test');
    const search = async (query: string) => (await page(testApp, session, `/dashboard/orders?${query}`)).body;
    const byEmail = await search('q=ADA%40customer.test');
    expect(byEmail).toContain('SHOP-1001');
    expect(byEmail).not.toContain('SHOP-1002');
    expect(await search('q=SHOP-1002')).toContain('grace@customer.test');
    expect(await search(`q=${paid.id}`)).toContain('SHOP-1001');
    const byLast4 = await search('q=4242');
    expect(byLast4).toContain('SHOP-1001');
    expect(byLast4).toContain('SHOP-1002');
    expect(await search('q=10.00')).toContain('SHOP-1001');
    expect(await search('q=10.01')).toContain('No orders match.');
    const filtered = await search('status=AUTHORIZED');
    expect(filtered).toContain('SHOP-1002');
    expect(filtered).not.toContain('SHOP-1001');
    expect(filtered).toMatch(/<option value="AUTHORIZED" selected(="")?>/);
    // Another merchant's person sees none of these orders.
    const stranger = await signIn(testApp, 'owner@other.test');
    expect((await page(testApp, stranger, '/dashboard/orders?q=ada%40customer.test')).body).toContain(
      'No orders match.',
    );
    expect((await page(testApp, stranger, `/dashboard/orders/${paid.order_id}`)).statusCode).toBe(404);
  });

  it('shows the home figures as an SVG chart with a table fallback', async () => {
    const session = await signIn(testApp, 'viewer@shop.test');
    const home = await page(testApp, session, '/dashboard');
    expect(home.body).toMatch(/<svg class="dash-chart"[^>]*role="img"/);
    expect(home.body).toContain('Show as a table');
    expect(home.body).toMatch(/<td>PAID|dash-status--paid">PAID/);
    // Today: one paid and one authorized order of 10.00 each, per status.
    expect(home.body).toMatch(/PAID<\/span><\/td><td class="num">1<\/td><td class="num">\$10\.00</);
    expect(home.body).toMatch(/AUTHORIZED<\/span><\/td><td class="num">1<\/td><td class="num">\$10\.00</);
    expect(home.body).toMatch(/<title>\d{4}-\d{2}-\d{2}: 2 orders, 1 paid<\/title>/);
  });

  it("refuses a viewer's refund on the server, even with a valid form", async () => {
    const session = await signIn(testApp, 'viewer@shop.test');
    const detail = await page(testApp, session, `/dashboard/orders/${paid.order_id}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.body).not.toContain(`/dashboard/payments/${paid.id}/refund`); // no form shown…
    const response = await submit(testApp, session, `/dashboard/payments/${paid.id}/refund`, {
      csrf_token: csrfOf(detail.body),
      form_key: 'a'.repeat(32),
      amount: '1.00',
    });
    expect(response.statusCode).toBe(403); // …and none accepted
    expect(response.body).toContain('Not allowed');
    const payment = (await get(testApp, merchant, `/v1/payments/${paid.id}`)).json();
    expect(payment.refunded_amount).toBe(0);
  });

  it('refuses a form POST without this session’s CSRF token', async () => {
    const session = await signIn(testApp, 'support@shop.test');
    const otherSession = await signIn(testApp, 'support@shop.test');
    const otherToken = csrfOf((await page(testApp, otherSession, '/dashboard')).body);
    for (const csrf_token of ['', otherToken]) {
      const response = await submit(testApp, session, `/dashboard/payments/${paid.id}/refund`, {
        csrf_token,
        form_key: 'b'.repeat(32),
        amount: '1.00',
      });
      expect(response.statusCode).toBe(403);
      expect(response.body).toContain('Form refused');
    }
    expect((await get(testApp, merchant, `/v1/payments/${paid.id}`)).json().refunded_amount).toBe(0);
  });

  it('refunds part of a payment once per form, through the payment service, and shows what is left', async () => {
    const session = await signIn(testApp, 'support@shop.test');
    const url = `/dashboard/orders/${paid.order_id}`;
    const detail = await page(testApp, session, url);
    expect(detail.body).toContain('Available to refund');
    const action = `/dashboard/payments/${paid.id}/refund`;
    const fields = {
      csrf_token: csrfOf(detail.body),
      form_key: formKeyOf(detail.body, action),
      amount: '2.50',
      reason: 'Damaged <box>',
    };
    const first = await submit(testApp, session, action, fields);
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe(`${url}?notice=refunded`);
    const again = await submit(testApp, session, action, fields); // a double submit of the same form
    expect(again.statusCode).toBe(303);
    const refunds = (await get(testApp, merchant, `/v1/payments/${paid.id}/refunds`)).json();
    expect(refunds.data).toHaveLength(1);
    // The acting person is recorded beside the money movement.
    const { rows: audited } = await testApp.database.pool.query(
      `SELECT actor_type, actor_label, details FROM audit_log WHERE action = 'payment.refund' AND object_id = $1`,
      [paid.id],
    );
    expect(audited[0]).toMatchObject({
      actor_type: 'user',
      actor_label: 'support@shop.test',
      details: { amount: 250, currency: 'USD', operation_id: refunds.data[0].id },
    });
    expect(refunds.data[0]).toMatchObject({ amount: 250, status: 'SUCCEEDED', reason: 'Damaged <box>' });
    const after = await page(testApp, session, `${url}?notice=refunded`);
    expect(after.body).toContain('The refund was sent.');
    expect(after.body).toContain('Damaged &lt;box>');
    expect(after.body).toContain('Available to refund: $7.50');
    expect(after.body).toContain('refund.succeeded'); // the order's timeline

    // More than is left is refused by the service, and the page says so.
    const next = await page(testApp, session, url);
    const tooMuch = await submit(testApp, session, action, {
      csrf_token: csrfOf(next.body),
      form_key: formKeyOf(next.body, action),
      amount: '7.51',
    });
    expect(tooMuch.headers.location).toBe(`${url}?error=amount_exceeds_refundable`);
    expect((await page(testApp, session, tooMuch.headers.location!)).body).toContain(
      'The amount exceeds what can still be refunded',
    );
  });

  it('captures part of an authorization and voids another', async () => {
    const session = await signIn(testApp, 'support@shop.test');
    const detail = await page(testApp, session, `/dashboard/orders/${authorized.order_id}`);
    const action = `/dashboard/payments/${authorized.id}/capture`;
    const captured = await submit(testApp, session, action, {
      csrf_token: csrfOf(detail.body),
      form_key: formKeyOf(detail.body, action),
      amount: '6.00',
    });
    expect(captured.headers.location).toContain('notice=captured');
    expect((await get(testApp, merchant, `/v1/payments/${authorized.id}`)).json()).toMatchObject({
      captured_amount: 600,
    });

    const another = await pay({ capture: 'manual', email: 'linus@customer.test', orderId: 'SHOP-1003' });
    const page2 = await page(testApp, session, `/dashboard/orders/${another.order_id}`);
    const voidAction = `/dashboard/payments/${another.id}/void`;
    const voided = await submit(testApp, session, voidAction, {
      csrf_token: csrfOf(page2.body),
      form_key: formKeyOf(page2.body, voidAction),
    });
    expect(voided.headers.location).toContain('notice=voided');
    expect((await get(testApp, merchant, `/v1/payments/${another.id}`)).json().status).toBe('CANCELED');
  });

  it('revokes every other session when the password changes', async () => {
    await addUser(testApp, merchant.merchantId, 'changer@shop.test', 'support');
    const mine = await signIn(testApp, 'changer@shop.test');
    const elsewhere = await signIn(testApp, 'changer@shop.test');
    const account = await page(testApp, mine, '/dashboard/account');
    const weak = await submit(testApp, mine, '/dashboard/account/password', {
      csrf_token: csrfOf(account.body),
      current_password: PASSWORD,
      new_password: 'short',
    });
    expect(weak.statusCode).toBe(422);
    expect(weak.body).toContain('at least 12 characters');
    const changed = await submit(testApp, mine, '/dashboard/account/password', {
      csrf_token: csrfOf(account.body),
      current_password: PASSWORD,
      new_password: 'a much longer new password',
    });
    expect(changed.statusCode).toBe(303);
    const fresh = cookiesOf(changed).get('kassa_session')!.value;
    expect(fresh).not.toBe(mine);
    expect((await page(testApp, elsewhere, '/dashboard')).statusCode).toBe(303);
    expect((await page(testApp, mine, '/dashboard')).statusCode).toBe(303);
    expect((await page(testApp, fresh, '/dashboard')).statusCode).toBe(200);
    expect((await attemptSignIn(testApp, 'changer@shop.test', PASSWORD, '10.0.0.30')).statusCode).toBe(401);
  });

  it('lets an owner create (shown once), roll and revoke API keys; support may not see them', async () => {
    const support = await signIn(testApp, 'support@shop.test');
    expect((await page(testApp, support, '/dashboard/developers')).statusCode).toBe(403);
    expect((await page(testApp, support, '/dashboard')).body).not.toContain('/dashboard/developers');

    const owner = await signIn(testApp, 'owner@shop.test');
    const developers = await page(testApp, owner, '/dashboard/developers');
    expect(developers.statusCode).toBe(200);
    const form = new URLSearchParams({
      csrf_token: csrfOf(developers.body),
      form_key: formKeyOf(developers.body, '/dashboard/developers/api-keys'),
      name: 'Reporting',
      type: 'restricted',
    });
    form.append('scopes', 'orders:read');
    form.append('scopes', 'payments:read');
    const post = () =>
      testApp.app.inject({
        method: 'POST',
        url: '/dashboard/developers/api-keys',
        headers: { cookie: `kassa_session=${owner}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      });
    const created = await post();
    expect(created.statusCode).toBe(201);
    const secret = /(rk_test_[A-Za-z0-9_-]{43})/.exec(created.body)![1]!;
    expect(created.body).toContain('it is shown only once');
    const withKey = (method: 'GET' | 'POST', url: string, key: string) =>
      testApp.app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });
    expect((await withKey('GET', '/v1/orders', secret)).statusCode).toBe(200);
    expect((await withKey('POST', `/v1/payments/${paid.id}/refunds`, secret)).statusCode).toBe(403);
    // The same form again creates nothing and shows no secret.
    const again = await post();
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe('/dashboard/developers?notice=key_already_created');
    const listed = (await page(testApp, owner, '/dashboard/developers')).body;
    expect(listed.match(/Reporting/g)).toHaveLength(1);
    expect(listed).not.toContain(secret);

    const keyId = /(key_[0-9a-f]{44})/.exec(created.body)![1]!;
    const rolled = await submit(testApp, owner, `/dashboard/developers/api-keys/${keyId}/roll`, {
      csrf_token: csrfOf(listed),
    });
    expect(rolled.statusCode).toBe(201);
    const rolledSecret = /(rk_test_[A-Za-z0-9_-]{43})/.exec(rolled.body)![1]!;
    expect(rolledSecret).not.toBe(secret);
    expect((await withKey('GET', '/v1/orders', rolledSecret)).statusCode).toBe(200);
    expect((await withKey('GET', '/v1/orders', secret)).statusCode).toBe(200); // the overlap
    const rollAgain = await submit(testApp, owner, `/dashboard/developers/api-keys/${keyId}/roll`, {
      csrf_token: csrfOf(listed),
    });
    expect(rollAgain.statusCode).toBe(422);
    expect(rollAgain.body).toContain('was rolled already');

    const revoked = await submit(testApp, owner, `/dashboard/developers/api-keys/${keyId}/revoke`, {
      csrf_token: csrfOf(listed),
    });
    expect(revoked.headers.location).toBe('/dashboard/developers?notice=key_revoked');
    const { rows } = await testApp.database.pool.query('SELECT revoked_at FROM api_keys WHERE id = $1', [
      keyId,
    ]);
    expect(rows[0].revoked_at).not.toBeNull();
    const { rows: audited } = await testApp.database.pool.query(
      `SELECT action, client_address FROM audit_log
        WHERE actor_type = 'user' AND actor_id = (SELECT id FROM dashboard_users WHERE email = 'owner@shop.test')
          AND action LIKE 'api_key.%' ORDER BY created_at, id`,
    );
    // The key service audits every change with the signed-in person as the actor; a roll creates the successor.
    expect(audited.map((row) => row.action).sort()).toEqual([
      'api_key.created',
      'api_key.created',
      'api_key.revoked',
      'api_key.rolled',
    ]);
    expect(audited.every((row) => row.client_address !== null)).toBe(true);
  });

  it('refuses a developer a secret key (every scope), which the role does not hold', async () => {
    await addUser(testApp, merchant.merchantId, 'dev@shop.test', 'developer');
    const developer = await signIn(testApp, 'dev@shop.test');
    const developers = await page(testApp, developer, '/dashboard/developers');
    const refused = await submit(testApp, developer, '/dashboard/developers/api-keys', {
      csrf_token: csrfOf(developers.body),
      form_key: formKeyOf(developers.body, '/dashboard/developers/api-keys'),
      type: 'secret',
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('scopes they do not hold');
    expect(refused.body).not.toMatch(/sk_test_[A-Za-z0-9_-]{43}/);
  });

  it('signs out: the session is revoked at once', async () => {
    const session = await signIn(testApp, 'viewer@shop.test');
    const home = await page(testApp, session, '/dashboard');
    const out = await submit(testApp, session, '/dashboard/sign-out', { csrf_token: csrfOf(home.body) });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/dashboard/sign-in?signed_out=1');
    expect((await page(testApp, session, '/dashboard')).statusCode).toBe(303);
  });
});
