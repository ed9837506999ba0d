import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import {
  PASSWORD,
  addUser,
  attemptSignIn,
  cookiesOf,
  csrfOf,
  deviceOf,
  formKeyOf,
  nextCode,
  page,
  recoveryCodesOnPage,
  rememberDevice,
  secretOnPage,
  signIn,
  submit,
  totpOf,
} from './dashboard-fixtures.ts';

/**
 * Two-factor authentication of dashboard people through app.inject: owners enrol before their first session,
 * a code is accepted once, recovery codes once each, the second step has its own attempts and counts toward
 * the lock-out, live sessions need two-factor, and live key actions ask for a fresh code (step-up).
 */
describe('dashboard two-factor', () => {
  const clock = createManualClock(new Date());
  let testApp: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    testApp = await createTestApp({ clock });
    merchant = await testApp.createMerchant({ name: 'Two-Factor Shop' });
    await addUser(testApp, merchant.merchantId, 'owner@2fa.test', 'owner');
    await addUser(testApp, merchant.merchantId, 'support@2fa.test', 'support');
  });
  afterAll(() => testApp.close());

  const post = (url: string, cookie: string, fields: Record<string, string>) =>
    testApp.app.inject({
      method: 'POST',
      url,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields).toString(),
    });
  const get = (url: string, cookie: string) =>
    testApp.app.inject({ method: 'GET', url, headers: { cookie } });
  const auditActions = async (email: string) =>
    (
      await testApp.database.pool.query<{ action: string }>(
        `SELECT action FROM audit_log WHERE object_id = (SELECT id FROM dashboard_users WHERE email = $1)
          ORDER BY created_at, id`,
        [email],
      )
    ).rows.map((row) => row.action);

  it('sends an owner to enrolment after the password: QR code, secret as text, a confirmed code, recovery codes once', async () => {
    const attempt = await attemptSignIn(testApp, 'owner@2fa.test', PASSWORD);
    expect(attempt.statusCode).toBe(303);
    expect(attempt.location).toBe('/dashboard/sign-in/enrol');
    expect(attempt.session).toBeUndefined(); // half signed in: no session yet
    // The half-signed-in cookie is not a session.
    expect((await page(testApp, attempt.pending!, '/dashboard')).statusCode).toBe(303);

    const cookie = `kassa_signin=${attempt.pending}`;
    const enrol = await get('/dashboard/sign-in/enrol', cookie);
    expect(enrol.statusCode).toBe(200);
    expect(enrol.body).toMatch(/<img class="dash-qr" src="data:image\/svg\+xml;base64,/);
    const secret = secretOnPage(enrol.body);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    // Stored sealed with the master key, never as the secret itself.
    const { rows } = await testApp.database.pool.query(
      "SELECT totp_secret_sealed, totp_enabled_at FROM dashboard_users WHERE email = 'owner@2fa.test'",
    );
    expect(rows[0].totp_secret_sealed).not.toContain(secret);
    expect(
      testApp.services.keyring
        .decrypt('totp-secret-encryption', Buffer.from(rows[0].totp_secret_sealed, 'base64'))
        .toString(),
    ).toBe(secret);
    expect(rows[0].totp_enabled_at).toBeNull();

    const wrong = await post('/dashboard/sign-in/enrol', cookie, {
      csrf_token: csrfOf(enrol.body),
      code: '000000',
    });
    expect(wrong.statusCode).toBe(422);
    expect(cookiesOf(wrong).get('kassa_session')).toBeUndefined();

    const code = totpOf(secret).generate({ timestamp: clock.now().getTime() });
    const done = await post('/dashboard/sign-in/enrol', cookie, { csrf_token: csrfOf(enrol.body), code });
    expect(done.statusCode).toBe(200);
    expect(done.headers['cache-control']).toBe('no-store');
    const codes = recoveryCodesOnPage(done.body);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const session = cookiesOf(done).get('kassa_session')!.value;
    expect((await page(testApp, session, '/dashboard')).statusCode).toBe(200);
    // Only hashes of the recovery codes are kept.
    const stored = await testApp.database.pool.query<{ code_hash: Buffer }>(
      `SELECT code_hash FROM dashboard_recovery_codes WHERE user_id = (SELECT id FROM dashboard_users WHERE email = 'owner@2fa.test')`,
    );
    expect(stored.rows).toHaveLength(10);
    expect(stored.rows.map((row) => row.code_hash.toString())).not.toContain(codes[0]);
    // The same code is refused afterwards (the enrolment used its time step).
    const again = await attemptSignIn(testApp, 'owner@2fa.test', PASSWORD);
    expect(again.location).toBe('/dashboard/sign-in/code');
    const codePage = await get('/dashboard/sign-in/code', `kassa_signin=${again.pending}`);
    const reused = await post('/dashboard/sign-in/code', `kassa_signin=${again.pending}`, {
      csrf_token: csrfOf(codePage.body),
      code,
    });
    expect(reused.statusCode).toBe(401);
    expect(reused.body).toContain('already used');
    expect(await auditActions('owner@2fa.test')).toEqual(
      expect.arrayContaining(['user.two_factor_enabled', 'user.signed_in', 'user.second_factor_failed']),
    );
    // Keep what the fixtures need for later sign-ins of this owner.
    const remembered = { secret, lastStep: 0, recoveryCodes: codes };
    nextCode(remembered, clock.now().getTime());
    rememberDevice(testApp, 'owner@2fa.test', remembered);
  });

  it('accepts a code once: the next time step signs in, the same code again is refused', async () => {
    const secret = (await secretOf('owner@2fa.test'))!;
    expect(secret).toBe(deviceOf(testApp, 'owner@2fa.test')!.secret);
    clock.advance(30);
    const code = nextCode(deviceOf(testApp, 'owner@2fa.test')!, clock.now().getTime())!;
    expect(code).toBe(totpOf(secret).generate({ timestamp: clock.now().getTime() }));
    const first = await codeStep('owner@2fa.test', code);
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe('/dashboard');
    expect(cookiesOf(first).get('kassa_session')).toBeDefined();
    const second = await codeStep('owner@2fa.test', code);
    expect(second.statusCode).toBe(401);
    expect(cookiesOf(second).get('kassa_session')).toBeUndefined();
  });

  it('accepts each recovery code once', async () => {
    const codes = deviceOf(testApp, 'owner@2fa.test')?.recoveryCodes ?? [];
    expect(codes.length).toBeGreaterThan(0);
    const recovery = codes[0]!;
    const first = await codeStep('owner@2fa.test', recovery.toUpperCase());
    expect(first.statusCode).toBe(303);
    expect(cookiesOf(first).get('kassa_session')).toBeDefined();
    const second = await codeStep('owner@2fa.test', recovery);
    expect(second.statusCode).toBe(401);
    expect(await auditActions('owner@2fa.test')).toContain('user.recovery_code_used');
  });

  it('gives the second step five tries, then asks for the password again; wrong codes count toward the lock-out', async () => {
    await addUser(testApp, merchant.merchantId, 'guessed@2fa.test', 'owner');
    await signIn(testApp, 'guessed@2fa.test'); // enrols
    const attempt = await attemptSignIn(testApp, 'guessed@2fa.test', PASSWORD);
    const cookie = `kassa_signin=${attempt.pending}`;
    const form = await get('/dashboard/sign-in/code', cookie);
    const answers: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      answers.push(
        (await post('/dashboard/sign-in/code', cookie, { csrf_token: csrfOf(form.body), code: '123456' }))
          .statusCode,
      );
    }
    expect(answers.slice(0, 4)).toEqual([401, 401, 401, 401]);
    expect(answers[4]).toBe(303); // back to the password
    expect((await get('/dashboard/sign-in/code', cookie)).statusCode).toBe(303);
    const { rows } = await testApp.database.pool.query(
      "SELECT failed_count FROM dashboard_users WHERE email = 'guessed@2fa.test'",
    );
    expect(rows[0].failed_count).toBe(5);
    // Five more through a new half-signed-in state (the password does not clear the count): locked.
    const again = await attemptSignIn(testApp, 'guessed@2fa.test', PASSWORD);
    const againForm = await get('/dashboard/sign-in/code', `kassa_signin=${again.pending}`);
    for (let i = 0; i < 5; i += 1)
      await post('/dashboard/sign-in/code', `kassa_signin=${again.pending}`, {
        csrf_token: csrfOf(againForm.body),
        code: '654321',
      });
    const locked = await attemptSignIn(testApp, 'guessed@2fa.test', PASSWORD);
    expect(locked.statusCode).toBe(423);
    expect(await auditActions('guessed@2fa.test')).toContain('user.locked');
  });

  it('lets support sign in with a password alone, and enrol from the Account page', async () => {
    const session = await signIn(testApp, 'support@2fa.test');
    const enrol = await page(testApp, session, '/dashboard/account/two-factor');
    expect(enrol.statusCode).toBe(200);
    const secret = secretOnPage(enrol.body);
    const done = await submit(testApp, session, '/dashboard/account/two-factor', {
      csrf_token: csrfOf(enrol.body),
      code: totpOf(secret).generate({ timestamp: clock.now().getTime() }),
    });
    expect(done.statusCode).toBe(200);
    expect(recoveryCodesOnPage(done.body)).toHaveLength(10);

    // New recovery codes need a fresh code, and replace the old ones (shown once, not cached).
    clock.advance(30);
    const account = await page(testApp, session, '/dashboard/account/two-factor');
    const replaced = await submit(testApp, session, '/dashboard/account/two-factor/recovery-codes', {
      csrf_token: csrfOf(account.body),
      code: totpOf(secret).generate({ timestamp: clock.now().getTime() }),
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.headers['cache-control']).toBe('no-store');
    const newCodes = recoveryCodesOnPage(replaced.body);
    expect(newCodes).toHaveLength(10);
    expect(newCodes).not.toEqual(recoveryCodesOnPage(done.body));

    const next = await attemptSignIn(testApp, 'support@2fa.test', PASSWORD);
    expect(next.location).toBe('/dashboard/sign-in/code');
  });

  it('does not let a live-mode session in without two-factor', async () => {
    await addUser(testApp, merchant.merchantId, 'nolive@2fa.test', 'developer');
    const session = await signIn(testApp, 'nolive@2fa.test');
    expect((await page(testApp, session, '/dashboard')).statusCode).toBe(200);
    await testApp.database.pool.query(
      `UPDATE dashboard_sessions SET livemode = true WHERE user_id = (SELECT id FROM dashboard_users WHERE email = 'nolive@2fa.test')`,
    );
    const live = await page(testApp, session, '/dashboard');
    expect(live.statusCode).toBe(303);
    expect(live.headers.location).toBe('/dashboard/sign-in');
  });

  it('asks for a fresh code before creating a live API key, then posts the same form again (307)', async () => {
    clock.advance(60);
    const session = await signIn(testApp, 'owner@2fa.test');
    await testApp.database.pool.query(
      'UPDATE dashboard_sessions SET livemode = true WHERE revoked_at IS NULL AND user_id = (SELECT id FROM dashboard_users WHERE email = $1)',
      ['owner@2fa.test'],
    );
    const developers = await page(testApp, session, '/dashboard/developers');
    expect(developers.statusCode).toBe(200);
    const fields = {
      csrf_token: csrfOf(developers.body),
      form_key: formKeyOf(developers.body, '/dashboard/developers/api-keys'),
      type: 'secret',
      name: 'Live server',
    };
    const asked = await submit(testApp, session, '/dashboard/developers/api-keys', fields);
    expect(asked.statusCode).toBe(200);
    expect(asked.body).toContain('Confirm with your code');
    expect(asked.body).toContain(`name="form_key" value="${fields.form_key}"`);
    const keysBefore = await testApp.database.pool.query(
      'SELECT count(*)::int AS n FROM api_keys WHERE merchant_id = $1',
      [merchant.merchantId],
    );

    const wrong = await submit(
      testApp,
      session,
      '/dashboard/step-up?then=%2Fdashboard%2Fdevelopers%2Fapi-keys',
      {
        ...fields,
        step_up_code: '000000',
      },
    );
    expect(wrong.statusCode).toBe(422);
    clock.advance(30);
    const code = nextCode(deviceOf(testApp, 'owner@2fa.test')!, clock.now().getTime())!;
    const stepped = await submit(
      testApp,
      session,
      '/dashboard/step-up?then=%2Fdashboard%2Fdevelopers%2Fapi-keys',
      {
        ...fields,
        step_up_code: code,
      },
    );
    expect(stepped.statusCode).toBe(307);
    expect(stepped.headers.location).toBe('/dashboard/developers/api-keys');
    // The browser posts the same body to the action again; now it goes through.
    const created = await submit(testApp, session, '/dashboard/developers/api-keys', {
      ...fields,
      step_up_code: code,
    });
    expect(created.statusCode).toBeLessThan(400);
    expect(created.body).not.toContain('Confirm with your code');
    const keysAfter = await testApp.database.pool.query(
      'SELECT count(*)::int AS n FROM api_keys WHERE merchant_id = $1',
      [merchant.merchantId],
    );
    expect(keysAfter.rows[0].n).toBe(keysBefore.rows[0].n + 1);
    // An open redirect is not possible through `then`.
    const elsewhere = await submit(testApp, session, '/dashboard/step-up?then=https%3A%2F%2Fevil.test%2F', {
      csrf_token: fields.csrf_token,
      step_up_code: nextCode(deviceOf(testApp, 'owner@2fa.test')!, clock.now().getTime())!,
    });
    expect(elsewhere.headers.location).toBe('/dashboard');
    expect(await auditActions('owner@2fa.test')).toEqual(
      expect.arrayContaining(['user.step_up_failed', 'user.stepped_up']),
    );
    // Five minutes later the step-up has run out.
    clock.advance(6 * 60);
    const later = await page(testApp, session, '/dashboard/developers');
    const askedAgain = await submit(testApp, session, '/dashboard/developers/api-keys', {
      csrf_token: csrfOf(later.body),
      form_key: formKeyOf(later.body, '/dashboard/developers/api-keys'),
      type: 'secret',
    });
    expect(askedAgain.body).toContain('Confirm with your code');
  });

  async function secretOf(email: string): Promise<string | undefined> {
    const { rows } = await testApp.database.pool.query(
      'SELECT totp_secret_sealed FROM dashboard_users WHERE email = $1',
      [email],
    );
    const sealed = rows[0]?.totp_secret_sealed as string | undefined;
    return (
      sealed &&
      testApp.services.keyring.decrypt('totp-secret-encryption', Buffer.from(sealed, 'base64')).toString()
    );
  }

  async function codeStep(email: string, code: string) {
    const attempt = await attemptSignIn(testApp, email, PASSWORD);
    expect(attempt.location).toBe('/dashboard/sign-in/code');
    const cookie = `kassa_signin=${attempt.pending}`;
    const form = await get('/dashboard/sign-in/code', cookie);
    return post('/dashboard/sign-in/code', cookie, { csrf_token: csrfOf(form.body), code });
  }
});
