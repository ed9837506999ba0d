import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
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

/**
 * The Team page and the audit log through app.inject: roles, removal and password reset by an owner (each
 * revoking the person's sessions), invitations by one-time link, refusals of every other role by the server,
 * and the audit log with its filters.
 */
describe('dashboard team and audit log', () => {
  const clock = createManualClock(new Date());
  let testApp: TestApp;
  let merchant: TestMerchant;
  let other: TestMerchant;
  let owner: string;

  beforeAll(async () => {
    testApp = await createTestApp({ clock });
    merchant = await testApp.createMerchant({ name: 'Team Shop' });
    other = await testApp.createMerchant({ name: 'Other Shop' });
    await addUser(testApp, merchant.merchantId, 'owner@team.test', 'owner');
    await addUser(testApp, merchant.merchantId, 'viewer@team.test', 'viewer');
    await addUser(testApp, merchant.merchantId, 'support@team.test', 'support');
    await addUser(testApp, merchant.merchantId, 'developer@team.test', 'developer');
    await addUser(testApp, other.merchantId, 'stranger@other.test', 'viewer');
    owner = await signIn(testApp, 'owner@team.test');
  });
  afterAll(() => testApp.close());

  const idOf = async (email: string) =>
    (
      await testApp.database.pool.query<{ id: string }>('SELECT id FROM dashboard_users WHERE email = $1', [
        email,
      ])
    ).rows[0]!.id;
  const live = async (session: string) => (await page(testApp, session, '/dashboard')).statusCode === 200;

  /** Opens an invitation link and posts a password through it, as the invitee's browser would. */
  async function acceptInvitation(link: string, password: string) {
    const path = new URL(link).pathname;
    const form = await testApp.app.inject({ method: 'GET', url: path });
    const signInCookie = cookiesOf(form).get('kassa_signin')?.value;
    const response = await testApp.app.inject({
      method: 'POST',
      url: path,
      headers: {
        cookie: `kassa_signin=${signInCookie ?? 'x'.repeat(43)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({
        csrf_token: form.statusCode === 200 ? csrfOf(form.body) : '',
        password,
      }).toString(),
    });
    return { form, response };
  }

  async function invite(email: string, role: string) {
    const team = await page(testApp, owner, '/dashboard/team');
    const fields = {
      csrf_token: csrfOf(team.body),
      form_key: formKeyOf(team.body, '/dashboard/team/invitations'),
      email,
      role,
    };
    const response = await submit(testApp, owner, '/dashboard/team/invitations', fields);
    const link = /id="invitation-link">([^<]+)</.exec(response.body)?.[1];
    return { response, link, fields };
  }

  it('shows people with role and two-factor status; read-only for a viewer', async () => {
    const team = await page(testApp, owner, '/dashboard/team');
    expect(team.statusCode).toBe(200);
    expect(team.body).toContain('owner@team.test');
    expect(team.body).toContain('viewer@team.test');
    expect(team.body).not.toContain('stranger@other.test');
    expect(team.body).toMatch(/owner@team\.test[\s\S]*?<td>On<\/td>/);
    expect(team.body).toContain('Create invitation link');
    const viewer = await signIn(testApp, 'viewer@team.test');
    const seen = await page(testApp, viewer, '/dashboard/team');
    expect(seen.statusCode).toBe(200);
    expect(seen.body).toContain('owner@team.test');
    expect(seen.body).not.toContain('Create invitation link');
    expect(seen.body).not.toContain('/reset-password');
  });

  it('keeps the Team page and the audit log from developers and support (users:read): 403 on GET and POST, no link', async () => {
    const ownerId = await idOf('owner@team.test');
    for (const email of ['developer@team.test', 'support@team.test']) {
      const session = await signIn(testApp, email);
      const home = await page(testApp, session, '/dashboard');
      expect(home.statusCode).toBe(200);
      expect(home.body).not.toContain('href="/dashboard/team"');
      expect(home.body).not.toContain('href="/dashboard/audit-log"');
      for (const url of ['/dashboard/team', '/dashboard/audit-log', '/dashboard/audit-log?action=user.*']) {
        const seen = await page(testApp, session, url);
        expect(seen.statusCode, `${email} GET ${url}`).toBe(403);
        expect(seen.body).toContain('users:read');
        expect(seen.body).not.toContain('owner@team.test');
      }
      const csrf = csrfOf(home.body);
      for (const [url, fields] of [
        [
          '/dashboard/team/invitations',
          { email: 'sneaky@team.test', role: 'owner', form_key: 'b'.repeat(32) },
        ],
        [`/dashboard/team/members/${ownerId}/reset-password`, {}],
      ] as const) {
        const response = await submit(testApp, session, url, { csrf_token: csrf, ...fields });
        expect(response.statusCode, `${email} POST ${url}`).toBe(403);
      }
    }
    expect(
      (
        await testApp.database.pool.query(
          "SELECT 1 FROM dashboard_invitations WHERE email = 'sneaky@team.test'",
        )
      ).rows,
    ).toHaveLength(0);
    // The owner (users) and a viewer (users:read) do see both pages and their links.
    const viewer = await signIn(testApp, 'viewer@team.test');
    for (const session of [owner, viewer]) {
      const home = await page(testApp, session, '/dashboard');
      expect(home.body).toContain('href="/dashboard/team"');
      expect(home.body).toContain('href="/dashboard/audit-log"');
      expect((await page(testApp, session, '/dashboard/audit-log')).statusCode).toBe(200);
    }
  });

  it("refuses a viewer's and support's team actions on the server with 403, whatever the page showed", async () => {
    const ownerId = await idOf('owner@team.test');
    for (const email of ['viewer@team.test', 'support@team.test']) {
      const session = await signIn(testApp, email);
      // Support may not even open the Team page (no users:read): the token comes from Home, like any form's.
      const csrf = csrfOf((await page(testApp, session, '/dashboard')).body);
      for (const [url, fields] of [
        [`/dashboard/team/members/${ownerId}/role`, { role: 'viewer' }],
        [`/dashboard/team/members/${ownerId}/remove`, {}],
        [`/dashboard/team/members/${ownerId}/reset-password`, {}],
        ['/dashboard/team/invitations', { email: 'x@team.test', role: 'owner', form_key: 'a'.repeat(32) }],
      ] as const) {
        const response = await submit(testApp, session, url, { csrf_token: csrf, ...fields });
        expect(response.statusCode, `${email} ${url}`).toBe(403);
      }
    }
    const { rows } = await testApp.database.pool.query(
      "SELECT role, disabled_at FROM dashboard_users WHERE email = 'owner@team.test'",
    );
    expect(rows[0]).toEqual({ role: 'owner', disabled_at: null });
    expect(
      (await testApp.database.pool.query("SELECT 1 FROM dashboard_invitations WHERE email = 'x@team.test'"))
        .rows,
    ).toHaveLength(0);
  });

  it('changes a role and signs the person out at once; refuses to leave the shop without an owner', async () => {
    await addUser(testApp, merchant.merchantId, 'changing@team.test', 'viewer');
    const theirs = await signIn(testApp, 'changing@team.test');
    const csrf = csrfOf((await page(testApp, owner, '/dashboard/team')).body);
    const id = await idOf('changing@team.test');
    const changed = await submit(testApp, owner, `/dashboard/team/members/${id}/role`, {
      csrf_token: csrf,
      role: 'support',
    });
    expect(changed.statusCode).toBe(303);
    expect(await live(theirs)).toBe(false);
    const again = await signIn(testApp, 'changing@team.test');
    expect((await page(testApp, again, '/dashboard')).body).toContain('support');
    const lastOwner = await submit(
      testApp,
      owner,
      `/dashboard/team/members/${await idOf('owner@team.test')}/role`,
      {
        csrf_token: csrf,
        role: 'viewer',
      },
    );
    expect(lastOwner.statusCode).toBe(422);
    expect(lastOwner.body).toContain('at least one owner');
    // Another merchant's person cannot be named.
    const stranger = await submit(
      testApp,
      owner,
      `/dashboard/team/members/${await idOf('stranger@other.test')}/role`,
      {
        csrf_token: csrf,
        role: 'owner',
      },
    );
    expect(stranger.statusCode).toBe(404);
  });

  it("resets another person's password (shown once) and signs them out", async () => {
    await addUser(testApp, merchant.merchantId, 'forgetful@team.test', 'support');
    const theirs = await signIn(testApp, 'forgetful@team.test');
    const csrf = csrfOf((await page(testApp, owner, '/dashboard/team')).body);
    const reset = await submit(
      testApp,
      owner,
      `/dashboard/team/members/${await idOf('forgetful@team.test')}/reset-password`,
      {
        csrf_token: csrf,
      },
    );
    expect(reset.statusCode).toBe(200);
    expect(reset.headers['cache-control']).toBe('no-store');
    const password =
      /New password for forgetful@team\.test[\s\S]*?dash-secret__value">([A-Za-z0-9]{20})</.exec(
        reset.body,
      )?.[1];
    expect(password).toBeDefined();
    expect(await live(theirs)).toBe(false);
    expect((await attemptSignIn(testApp, 'forgetful@team.test', PASSWORD)).statusCode).toBe(401);
    expect((await attemptSignIn(testApp, 'forgetful@team.test', password!)).session).toBeDefined();
  });

  it('makes a person whose password an owner reset choose a new one before any other page or form', async () => {
    await addUser(testApp, merchant.merchantId, 'reset@team.test', 'support');
    const reset = await submit(
      testApp,
      owner,
      `/dashboard/team/members/${await idOf('reset@team.test')}/reset-password`,
      { csrf_token: csrfOf((await page(testApp, owner, '/dashboard/team')).body) },
    );
    const given = /dash-secret__value">([A-Za-z0-9]{20})</.exec(reset.body)![1]!;
    const session = (await attemptSignIn(testApp, 'reset@team.test', given)).session!;
    expect(session).toBeDefined();

    for (const url of [
      '/dashboard',
      '/dashboard/orders',
      '/dashboard/checkouts',
      '/dashboard/account/two-factor',
    ]) {
      const refused = await page(testApp, session, url);
      expect(refused.statusCode, url).toBe(303);
      expect(refused.headers.location, url).toBe('/dashboard/account');
    }
    const account = await page(testApp, session, '/dashboard/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('An owner reset your password');
    const csrf = csrfOf(account.body);
    const switched = await submit(testApp, session, '/dashboard/mode', { csrf_token: csrf, mode: 'test' });
    expect(switched.statusCode).toBe(403);
    expect(switched.body).toContain('Choose a new password first');

    const same = await submit(testApp, session, '/dashboard/account/password', {
      csrf_token: csrf,
      current_password: given,
      new_password: given,
    });
    expect(same.statusCode).toBe(422);
    expect(same.body).toContain('different from the current one');
    const changed = await submit(testApp, session, '/dashboard/account/password', {
      csrf_token: csrf,
      current_password: given,
      new_password: 'my very own new password',
    });
    expect(changed.statusCode).toBe(303);
    const fresh = cookiesOf(changed).get('kassa_session')!.value;
    const home = await page(testApp, fresh, '/dashboard');
    expect(home.statusCode).toBe(200);
    expect(home.body).not.toContain('An owner reset your password');
    const { rows } = await testApp.database.pool.query(
      "SELECT password_change_required FROM dashboard_users WHERE email = 'reset@team.test'",
    );
    expect(rows[0]).toEqual({ password_change_required: false });
    // The person's own change asks nothing more of the next sign-in.
    const again = await attemptSignIn(testApp, 'reset@team.test', 'my very own new password');
    expect((await page(testApp, again.session!, '/dashboard/orders')).statusCode).toBe(200);
  });

  it('removes a person: their sessions end at once and they cannot sign in', async () => {
    await addUser(testApp, merchant.merchantId, 'leaving@team.test', 'support');
    const theirs = await signIn(testApp, 'leaving@team.test');
    const csrf = csrfOf((await page(testApp, owner, '/dashboard/team')).body);
    const url = `/dashboard/team/members/${await idOf('leaving@team.test')}/remove`;
    expect((await submit(testApp, owner, url, { csrf_token: csrf })).statusCode).toBe(303);
    expect((await submit(testApp, owner, url, { csrf_token: csrf })).statusCode).toBe(303); // twice is once
    expect(await live(theirs)).toBe(false);
    expect((await attemptSignIn(testApp, 'leaving@team.test', PASSWORD)).statusCode).toBe(401);
    expect((await page(testApp, owner, '/dashboard/team')).body).not.toContain('leaving@team.test');
  });

  it('invites by one-time link: the invitee sets a password and is signed in; the link works once', async () => {
    const { response, link, fields } = await invite('newcomer@team.test', 'developer');
    expect(response.statusCode).toBe(200);
    expect(link).toMatch(/\/dashboard\/invitations\/[A-Za-z0-9_-]{43}$/);
    // The same form sent twice makes one invitation and does not show a second link.
    const twice = await submit(testApp, owner, '/dashboard/team/invitations', fields);
    expect(twice.statusCode).toBe(303);
    expect(twice.headers.location).toContain('invitation_exists');
    const { rows } = await testApp.database.pool.query(
      "SELECT token_hash FROM dashboard_invitations WHERE email = 'newcomer@team.test'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash.toString('utf8')).not.toContain(link!.split('/').at(-1));

    const short = await acceptInvitation(link!, 'too short');
    expect(short.form.statusCode).toBe(200);
    expect(short.form.body).toContain('newcomer@team.test');
    expect(short.response.statusCode).toBe(422);

    const joined = await acceptInvitation(link!, 'a long enough password');
    expect(joined.response.statusCode).toBe(303);
    expect(joined.response.headers.location).toBe('/dashboard');
    const session = cookiesOf(joined.response).get('kassa_session')!.value;
    const home = await page(testApp, session, '/dashboard');
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('developer');

    const reused = await acceptInvitation(link!, 'another long password');
    expect(reused.form.statusCode).toBe(410);
    expect(reused.response.statusCode).toBe(410);
    expect(
      (await attemptSignIn(testApp, 'newcomer@team.test', 'a long enough password')).session,
    ).toBeDefined();
  });

  it('refuses an expired invitation and a revoked one', async () => {
    const expiring = await invite('late@team.test', 'viewer');
    const revoked = await invite('revoked@team.test', 'viewer');
    const team = await page(testApp, owner, '/dashboard/team');
    const invitationId = (
      await testApp.database.pool.query<{ id: string }>(
        "SELECT id FROM dashboard_invitations WHERE email = 'revoked@team.test'",
      )
    ).rows[0]!.id;
    const revoke = await submit(testApp, owner, `/dashboard/team/invitations/${invitationId}/revoke`, {
      csrf_token: csrfOf(team.body),
    });
    expect(revoke.statusCode).toBe(303);
    expect((await acceptInvitation(revoked.link!, 'a long enough password')).response.statusCode).toBe(410);
    clock.advance(8 * 24 * 3600);
    expect((await acceptInvitation(expiring.link!, 'a long enough password')).response.statusCode).toBe(410);
    expect(
      (
        await testApp.database.pool.query(
          "SELECT 1 FROM dashboard_users WHERE email IN ('late@team.test', 'revoked@team.test')",
        )
      ).rows,
    ).toHaveLength(0);
    owner = await signIn(testApp, 'owner@team.test'); // eight days later the owner's session has idled out
  });

  it('invites an owner, who sets up two-factor before the first session', async () => {
    const { link } = await invite('coowner@team.test', 'owner');
    const joined = await acceptInvitation(link!, 'a long enough password');
    expect(joined.response.statusCode).toBe(303);
    expect(joined.response.headers.location).toBe('/dashboard/sign-in/enrol');
    expect(cookiesOf(joined.response).get('kassa_session')).toBeUndefined();
  });

  it('lists the audit log of this shop with who, what, object, address and time; filters stay in the URL', async () => {
    const log = await page(testApp, owner, '/dashboard/audit-log');
    expect(log.statusCode).toBe(200);
    for (const action of [
      'user.signed_in',
      'user.role_changed',
      'user.removed',
      'user.password_reset',
      'user.invitation_created',
      'user.invitation_accepted',
      'user.invitation_revoked',
    ]) {
      expect(log.body, action).toContain(action);
    }
    expect(log.body).toContain('127.0.0.1');
    expect(log.body).not.toContain('stranger@other.test');

    const filtered = await page(testApp, owner, '/dashboard/audit-log?action=user.invitation_created');
    expect(filtered.body).toContain('user.invitation_created');
    expect(filtered.body).not.toContain('>user.signed_in<');
    const prefix = await page(testApp, owner, '/dashboard/audit-log?action=user.*');
    expect(prefix.body).toContain('user.signed_in');

    const viewerId = await idOf('viewer@team.test');
    const byPerson = await page(testApp, owner, `/dashboard/audit-log?user=${viewerId}`);
    expect(byPerson.body).toContain('user.signed_in');
    expect(byPerson.body).not.toContain('user.invitation_created');
    expect(byPerson.body).toContain(`<option value="${viewerId}" selected>`);

    const tomorrow = new Date(clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
    const future = await page(testApp, owner, `/dashboard/audit-log?from=${tomorrow}`);
    expect(future.body).toContain('No entries.');
    expect(future.body).toContain(`value="${tomorrow}"`);

    const viewer = await signIn(testApp, 'viewer@team.test');
    expect((await page(testApp, viewer, '/dashboard/audit-log')).statusCode).toBe(200);
  });

  it('pages the audit log 50 entries at a time, newest first', async () => {
    for (let i = 0; i < 55; i += 1) {
      await testApp.database.pool.query(
        `INSERT INTO audit_log (id, merchant_id, actor_type, actor_id, action, details, created_at)
         VALUES ($1, $2, 'system', 'test', 'test.paged', '{}', now() + make_interval(secs => $3))`,
        [`aud_paged${String(i).padStart(3, '0')}`, merchant.merchantId, i],
      );
    }
    const first = await page(testApp, owner, '/dashboard/audit-log?action=test.paged');
    expect(first.body.match(/test\.paged/g)!.length).toBeGreaterThanOrEqual(50);
    const older = /href="(\/dashboard\/audit-log\?action=test\.paged&amp;after=[^"]+)"/
      .exec(first.body)![1]!
      .replace('&amp;', '&');
    const second = await page(testApp, owner, older);
    expect(second.statusCode).toBe(200);
    expect((second.body.match(/<tr>/g) ?? []).length - 1).toBe(5);
    expect(second.body).toContain('Newest');
  });
});
