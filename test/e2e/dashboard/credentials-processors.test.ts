import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { addUser, csrfOf, formKeyOf, page, signIn, submit } from './dashboard-fixtures.ts';

/** The dashboard's OAuth clients and processor accounts pages through app.inject, over the API's services. */
describe('dashboard: OAuth clients and processor accounts', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let developer: string;
  let viewer: string;
  let support: string;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant({ name: 'Cred Shop' });
    await addUser(t, merchant.merchantId, 'dev@cred.test', 'developer');
    await addUser(t, merchant.merchantId, 'viewer@cred.test', 'viewer');
    await addUser(t, merchant.merchantId, 'support@cred.test', 'support');
    developer = await signIn(t, 'dev@cred.test');
    viewer = await signIn(t, 'viewer@cred.test');
    support = await signIn(t, 'support@cred.test');
  });
  afterAll(() => t?.close());

  const api = (url: string) => t.app.inject({ method: 'GET', url, headers: merchant.headers });
  const token = (clientId: string, secret: string) =>
    t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
      }).toString(),
    });
  const CLIENTS = '/dashboard/developers/oauth-clients';
  const secretIn = (html: string) =>
    /<code class="dash-code dash-secret__value">([^<]+)<\/code>/.exec(html)?.[1];

  it('creates an OAuth client with its secret shown once, rolls it with overlap and revokes it', async () => {
    const form = (await page(t, developer, CLIENTS)).body;
    const fields = { csrf_token: csrfOf(form), form_key: formKeyOf(form, CLIENTS), name: 'Warehouse sync' };
    const created = await submit(t, developer, CLIENTS, fields);
    expect(created.statusCode).toBe(201);
    const secret = secretIn(created.body)!;
    expect(secret).toBeTruthy();
    const clients = (await api('/v1/oauth-clients')).json().data as {
      id: string;
      scopes: string[];
      name: string;
    }[];
    // The merchant's own client from its creation, and the new one.
    expect(clients).toHaveLength(2);
    const made = clients.find((client) => client.name === 'Warehouse sync')!;
    const clientId = made.id;
    // No scope ticked: the client gets the scopes of the developer's role, not more.
    expect(made.scopes).toContain('webhooks');
    expect(made.scopes).not.toContain('payments');
    expect((await token(clientId, secret)).statusCode).toBe(200);

    const again = await submit(t, developer, CLIENTS, fields);
    expect(again.headers.location).toBe(`${CLIENTS}?notice=already_created`);
    expect((await api('/v1/oauth-clients')).json().data).toHaveLength(2);
    const listed = (await page(t, developer, CLIENTS)).body;
    expect(listed).toContain('Warehouse sync');
    expect(listed).not.toContain(secret);

    const escalation = await submit(t, developer, CLIENTS, {
      csrf_token: csrfOf(listed),
      form_key: formKeyOf(listed, CLIENTS),
      scopes: 'payments',
    });
    expect(escalation.statusCode).toBe(422);
    expect((await api('/v1/oauth-clients')).json().data).toHaveLength(2);

    const roll = `${CLIENTS}/${clientId}/roll`;
    const rollFields = { csrf_token: csrfOf(listed), form_key: formKeyOf(listed, roll), overlap: '3600' };
    const rolled = await submit(t, developer, roll, rollFields);
    expect(rolled.statusCode).toBe(201);
    const newSecret = secretIn(rolled.body)!;
    expect(newSecret).not.toBe(secret);
    expect(rolled.body).toContain('The previous secret keeps working until');
    expect((await submit(t, developer, roll, rollFields)).headers.location).toBe(
      `${CLIENTS}?notice=already_rolled`,
    );
    expect((await token(clientId, newSecret)).statusCode).toBe(200);
    expect((await token(clientId, secret)).statusCode).toBe(200);

    const revoked = await submit(t, developer, `${CLIENTS}/${clientId}/revoke`, {
      csrf_token: csrfOf(listed),
    });
    expect(revoked.headers.location).toBe(`${CLIENTS}?notice=revoked`);
    expect(
      (await api('/v1/oauth-clients')).json().data.map((client: { id: string }) => client.id),
    ).not.toContain(clientId);
    const { rows } = await t.database.pool.query(
      `SELECT action, actor_type FROM audit_log WHERE object_id = $1 ORDER BY created_at`,
      [clientId],
    );
    expect(rows.map((row) => row.action)).toEqual([
      'oauth_client.created',
      'oauth_client.rolled',
      'oauth_client.revoked',
    ]);
    expect(rows.every((row) => row.actor_type === 'user')).toBe(true);
  });

  it('keeps OAuth clients from roles without the api_keys scope, on the server', async () => {
    for (const session of [viewer, support]) {
      expect((await page(t, session, CLIENTS)).statusCode).toBe(403);
      const own = (await page(t, session, '/dashboard/account')).body;
      const refused = await submit(t, session, CLIENTS, {
        csrf_token: csrfOf(own),
        form_key: 'c'.repeat(32),
      });
      expect(refused.statusCode).toBe(403);
    }
  });

  const ACCOUNTS = '/dashboard/processor-accounts';
  const STRIPE_KEY = 'sk_test_51DashboardSecretKeyAbcd1234';

  it('connects processor accounts with write-only credentials, once per form', async () => {
    const form = (await page(t, developer, ACCOUNTS)).body;
    expect(form).toContain('Connect Stripe');
    const stripeKey =
      /action="\/dashboard\/processor-accounts"[\s\S]*?name="form_key" value="([0-9a-f]{32})"[\s\S]*?value="stripe"/.exec(
        form,
      )![1]!;
    const fields = new URLSearchParams({
      csrf_token: csrfOf(form),
      form_key: stripeKey,
      processor: 'stripe',
      credential_secret_key: STRIPE_KEY,
      credential_webhook_secret: '',
      currencies: 'eur, usd',
      priority: '2',
    });
    fields.append('payment_methods', 'card');
    fields.append('payment_methods', 'wallet');
    const post = () =>
      t.app.inject({
        method: 'POST',
        url: ACCOUNTS,
        headers: {
          cookie: `kassa_session=${developer}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: fields.toString(),
      });
    const created = await post();
    expect(created.statusCode).toBe(303);
    expect(created.headers.location).toBe(`${ACCOUNTS}?notice=created`);
    expect((await post()).headers.location).toBe(`${ACCOUNTS}?notice=already_created`);
    const accounts = (await api('/v1/processor-accounts')).json().data;
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({
      processor: 'stripe',
      status: 'ENABLED',
      priority: 2,
      currencies: ['EUR', 'USD'],
      payment_methods: ['card', 'wallet'],
      credentials: { secret_key: 'sk_test_…1234' },
      webhook_secret_set: false,
    });
    const listed = (await page(t, developer, ACCOUNTS)).body;
    expect(listed).toContain('sk_test_…1234');
    expect(listed).not.toContain(STRIPE_KEY);
    expect(listed).toContain('webhooks are refused');

    const refused = await submit(t, developer, ACCOUNTS, {
      csrf_token: csrfOf(listed),
      form_key: 'd'.repeat(32),
      processor: 'stripe',
      credential_secret_key: 'pk_test_not_a_secret_key',
      payment_methods: 'card',
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.body).toContain('must be a Stripe secret key');
    expect(refused.body).not.toContain('pk_test_not_a_secret_key');

    const sandbox = await submit(t, developer, ACCOUNTS, {
      csrf_token: csrfOf(listed),
      form_key: 'e'.repeat(32),
      processor: 'sandbox',
      payment_methods: 'card',
      priority: '0',
    });
    expect(sandbox.headers.location).toBe(`${ACCOUNTS}?notice=created`);
    expect((await api('/v1/processor-accounts')).json().data).toHaveLength(2);
  });

  it('disables an account and changes its priority; viewers read, support is refused', async () => {
    const html = (await page(t, developer, ACCOUNTS)).body;
    const stripe = (
      (await api('/v1/processor-accounts')).json().data as { id: string; processor: string }[]
    ).find((account) => account.processor === 'stripe')!;
    const csrf_token = csrfOf(html);
    const disabled = await submit(t, developer, `${ACCOUNTS}/${stripe.id}/status`, {
      csrf_token,
      status: 'DISABLED',
    });
    expect(disabled.headers.location).toBe(`${ACCOUNTS}?notice=disabled`);
    expect(
      (await submit(t, developer, `${ACCOUNTS}/${stripe.id}/status`, { csrf_token, status: 'DISABLED' }))
        .statusCode,
    ).toBe(303);
    const prioritised = await submit(t, developer, `${ACCOUNTS}/${stripe.id}/priority`, {
      csrf_token,
      priority: '-5',
    });
    expect(prioritised.headers.location).toBe(`${ACCOUNTS}?notice=priority`);
    const bad = await submit(t, developer, `${ACCOUNTS}/${stripe.id}/priority`, {
      csrf_token,
      priority: '5000',
    });
    expect(bad.headers.location).toBe(`${ACCOUNTS}?error=validation_failed`);
    expect((await api(`/v1/processor-accounts/${stripe.id}`)).json()).toMatchObject({
      status: 'DISABLED',
      priority: -5,
    });

    const seen = await page(t, viewer, ACCOUNTS);
    expect(seen.statusCode).toBe(200);
    expect(seen.body).toContain('sk_test_…1234');
    expect(seen.body).not.toContain('Connect Stripe');
    expect(seen.body).not.toContain('Set priority');
    const viewerCsrf = csrfOf(seen.body);
    for (const [url, fields] of [
      [ACCOUNTS, { processor: 'sandbox', payment_methods: 'card', form_key: 'f'.repeat(32) }],
      [`${ACCOUNTS}/${stripe.id}/status`, { status: 'ENABLED' }],
      [`${ACCOUNTS}/${stripe.id}/priority`, { priority: '1' }],
    ] as const) {
      const response = await submit(t, viewer, url, { csrf_token: viewerCsrf, ...fields });
      expect(response.statusCode, url).toBe(403);
    }
    expect((await page(t, support, ACCOUNTS)).statusCode).toBe(403);
    expect((await api(`/v1/processor-accounts/${stripe.id}`)).json()).toMatchObject({
      status: 'DISABLED',
      priority: -5,
    });
  });

  it("updates an account's credentials through the PATCH service: merged, sealed, last 4 shown, audited", async () => {
    const stripe = (
      (await api('/v1/processor-accounts')).json().data as { id: string; processor: string }[]
    ).find((account) => account.processor === 'stripe')!;
    const html = (await page(t, developer, ACCOUNTS)).body;
    expect(html).toContain(`action="${ACCOUNTS}/${stripe.id}/credentials"`);
    expect(html).toContain('Now: sk_test_…1234');
    const csrf_token = csrfOf(html);
    const url = `${ACCOUNTS}/${stripe.id}/credentials`;
    const NEW_KEY = 'sk_test_51DashboardRolledKeyWxyz9876';
    const WEBHOOK_SECRET = 'whsec_dashboardSigningSecret5555';

    const empty = await submit(t, developer, url, { csrf_token, credential_secret_key: ' ' });
    expect(empty.statusCode).toBe(422);
    const wrong = await submit(t, developer, url, {
      csrf_token,
      credential_secret_key: 'pk_test_public_key',
    });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body).toContain('must be a Stripe secret key');
    expect(wrong.body).not.toContain('pk_test_public_key');

    // Only the webhook secret: the secret key is kept (merged, as PATCH does).
    const hookOnly = await submit(t, developer, url, {
      csrf_token,
      credential_secret_key: '',
      credential_webhook_secret: WEBHOOK_SECRET,
    });
    expect(hookOnly.headers.location).toBe(`${ACCOUNTS}?notice=credentials`);
    expect((await api(`/v1/processor-accounts/${stripe.id}`)).json()).toMatchObject({
      credentials: { secret_key: 'sk_test_…1234', webhook_secret: 'whsec_…5555' },
      webhook_secret_set: true,
    });
    const rolled = await submit(t, developer, url, { csrf_token, credential_secret_key: NEW_KEY });
    expect(rolled.headers.location).toBe(`${ACCOUNTS}?notice=credentials`);
    expect((await api(`/v1/processor-accounts/${stripe.id}`)).json()).toMatchObject({
      credentials: { secret_key: 'sk_test_…9876', webhook_secret: 'whsec_…5555' },
    });
    const after = (await page(t, developer, `${ACCOUNTS}?notice=credentials`)).body;
    expect(after).toContain('The credentials were saved');
    expect(after).toContain('sk_test_…9876');
    for (const secret of [NEW_KEY, WEBHOOK_SECRET]) expect(after).not.toContain(secret);

    const { rows } = await t.database.pool.query<{ actor_id: string; details: Record<string, unknown> }>(
      `SELECT actor_id, details FROM audit_log
        WHERE action = 'processor_account.updated' AND object_id = $1 AND details ? 'changed'
        ORDER BY created_at, id`,
      [stripe.id],
    );
    expect(rows).toHaveLength(2);
    expect(rows[1]!.details).toMatchObject({
      changed: ['secret_key'],
      credentials: { secret_key: 'sk_test_…9876' },
    });
    expect(JSON.stringify(rows)).not.toContain(NEW_KEY);
    expect(JSON.stringify(rows)).not.toContain(WEBHOOK_SECRET);
    const devId = (
      await t.database.pool.query<{ id: string }>(
        "SELECT id FROM dashboard_users WHERE email = 'dev@cred.test'",
      )
    ).rows[0]!.id;
    expect(rows[1]!.actor_id).toBe(devId);

    // A viewer's form is refused by the server; the credentials stay.
    const viewerCsrf = csrfOf((await page(t, viewer, ACCOUNTS)).body);
    expect((await page(t, viewer, ACCOUNTS)).body).not.toContain('Save credentials');
    const refused = await submit(t, viewer, url, {
      csrf_token: viewerCsrf,
      credential_secret_key: 'sk_test_51ViewerWasHereAbcdef0000',
    });
    expect(refused.statusCode).toBe(403);
    expect((await api(`/v1/processor-accounts/${stripe.id}`)).json().credentials.secret_key).toBe(
      'sk_test_…9876',
    );
  });
});
