import { Secret, TOTP } from 'otpauth';
import { expect } from 'vitest';
import type { TestApp, TestMerchant } from '../../fixtures/test-app.ts';
import { checkoutRequest, createCheckout, simpleOrder } from '../checkouts/checkout-fixtures.ts';
import { createUser } from '../../../src/modules/users/users.ts';
import type { Role } from '../../../src/modules/users/permissions.ts';

/** Helpers for the dashboard tests: people, sign-in through the real form, and form posts with the page's token. */

export const PASSWORD = 'correct horse battery staple';

export async function addUser(testApp: TestApp, merchantId: string, email: string, role: Role) {
  return createUser(testApp.database.db, {
    merchantId,
    email,
    role,
    password: PASSWORD,
    now: testApp.services.clock.now(),
  });
}

/** `name=value` of every Set-Cookie header of a response. */
export function cookiesOf(response: {
  headers: Record<string, unknown>;
}): Map<string, { value: string; raw: string }> {
  const header = response.headers['set-cookie'];
  const list = header === undefined ? [] : Array.isArray(header) ? header : [String(header)];
  return new Map(
    list.map((raw: string) => {
      const [pair] = raw.split(';');
      const index = pair!.indexOf('=');
      return [pair!.slice(0, index), { value: pair!.slice(index + 1), raw }];
    }),
  );
}

export function csrfOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF field in the page');
  return match[1]!;
}

export function formKeyOf(html: string, action: string): string {
  const form = html.slice(html.indexOf(`action="${action}"`));
  const match = /name="form_key" value="([0-9a-f]{32})"/.exec(form);
  if (!match) throw new Error(`no form key for ${action}`);
  return match[1]!;
}

export type SignInAttempt = {
  statusCode: number;
  body: string;
  session: string | undefined;
  /** Where a 303 sends the browser: `/dashboard`, or the second step (`/dashboard/sign-in/code`, `…/enrol`). */
  location: string | undefined;
  /** The pre-session cookie after the password: it carries the half-signed-in state of the second step. */
  pending: string | undefined;
};

/** Opens the sign-in page and posts it, as a browser would (its pre-session cookie and CSRF token). */
export async function attemptSignIn(
  testApp: TestApp,
  email: string,
  password: string,
  remoteAddress = '127.0.0.1',
): Promise<SignInAttempt> {
  const page = await testApp.app.inject({ method: 'GET', url: '/dashboard/sign-in', remoteAddress });
  const signIn = cookiesOf(page).get('kassa_signin')!.value;
  const response = await testApp.app.inject({
    method: 'POST',
    url: '/dashboard/sign-in',
    remoteAddress,
    headers: { cookie: `kassa_signin=${signIn}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf_token: csrfOf(page.body), email, password }).toString(),
  });
  return {
    statusCode: response.statusCode,
    body: response.body,
    session: cookiesOf(response).get('kassa_session')?.value,
    location: response.headers.location as string | undefined,
    pending: cookiesOf(response).get('kassa_signin')?.value,
  };
}

/** What the tests know of a person's two-factor: the secret read off the enrolment page, and codes. */
export type TwoFactorDevice = { secret: string; lastStep: number; recoveryCodes: string[] };
const devices = new WeakMap<TestApp, Map<string, TwoFactorDevice>>();

export function deviceOf(testApp: TestApp, email: string): TwoFactorDevice | undefined {
  return devices.get(testApp)?.get(email.toLowerCase());
}

/** Records what a test read off an enrolment page it went through by hand, for later sign-ins. */
export function rememberDevice(testApp: TestApp, email: string, device: TwoFactorDevice): void {
  const perApp = devices.get(testApp) ?? new Map<string, TwoFactorDevice>();
  devices.set(testApp, perApp);
  perApp.set(email.toLowerCase(), device);
}

export function totpOf(secret: string): TOTP {
  return new TOTP({ secret: Secret.fromBase32(secret) });
}

/** The code of the authenticator app for the first time step after the last one used (now or the next). */
export function nextCode(device: TwoFactorDevice, now = Date.now()): string | undefined {
  const step = TOTP.counter({ timestamp: now });
  for (const candidate of [step, step + 1]) {
    if (candidate > device.lastStep) {
      device.lastStep = candidate;
      return totpOf(device.secret).generate({ timestamp: candidate * 30_000 });
    }
  }
  return undefined;
}

export function secretOnPage(html: string): string {
  const match = /class="dash-code dash-secret">([A-Z2-7]+)</.exec(html);
  if (!match) throw new Error('no two-factor secret on the page');
  return match[1]!;
}

export function recoveryCodesOnPage(html: string): string[] {
  return [
    ...html.matchAll(/<code class="dash-code">([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})<\/code>/g),
  ].map((match) => match[1]!);
}

/**
 * The second step of a sign-in, as a browser would take it: enrolment (reading the secret off the page, the
 * code computed with otpauth) or the code of an enrolled person (a recovery code once this test used the
 * current and the next time step already). Answers the session.
 */
export async function completeSecondStep(
  testApp: TestApp,
  email: string,
  attempt: SignInAttempt,
  remoteAddress = '127.0.0.1',
): Promise<string> {
  const cookie = `kassa_signin=${attempt.pending}`;
  const step = await testApp.app.inject({
    method: 'GET',
    url: attempt.location!,
    remoteAddress,
    headers: { cookie },
  });
  let code: string;
  if (attempt.location === '/dashboard/sign-in/enrol') {
    const device: TwoFactorDevice = { secret: secretOnPage(step.body), lastStep: 0, recoveryCodes: [] };
    code = nextCode(device, testApp.services.clock.now().getTime())!;
    const perApp = devices.get(testApp) ?? new Map<string, TwoFactorDevice>();
    devices.set(testApp, perApp);
    perApp.set(email.toLowerCase(), device);
  } else {
    const device = deviceOf(testApp, email);
    if (!device) throw new Error(`the tests do not know the two-factor secret of ${email}`);
    code = nextCode(device, testApp.services.clock.now().getTime()) ?? device.recoveryCodes.shift()!;
  }
  const response = await testApp.app.inject({
    method: 'POST',
    url: attempt.location!,
    remoteAddress,
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf_token: csrfOf(step.body), code }).toString(),
  });
  if (attempt.location === '/dashboard/sign-in/enrol')
    deviceOf(testApp, email)!.recoveryCodes = recoveryCodesOnPage(response.body);
  const session = cookiesOf(response).get('kassa_session')?.value;
  if (!session) throw new Error(`second step failed: ${response.statusCode} ${response.body.slice(0, 300)}`);
  return session;
}

export async function signIn(testApp: TestApp, email: string, remoteAddress = '127.0.0.1'): Promise<string> {
  const attempt = await attemptSignIn(testApp, email, PASSWORD, remoteAddress);
  if (attempt.statusCode === 303 && attempt.location?.startsWith('/dashboard/sign-in/'))
    return completeSecondStep(testApp, email, attempt, remoteAddress);
  if (attempt.statusCode !== 303 || !attempt.session)
    throw new Error(`sign-in failed: ${attempt.statusCode} ${attempt.body.slice(0, 300)}`);
  return attempt.session;
}

export function page(testApp: TestApp, session: string, url: string) {
  return testApp.app.inject({ method: 'GET', url, headers: { cookie: `kassa_session=${session}` } });
}

export function submit(testApp: TestApp, session: string, url: string, fields: Record<string, string>) {
  return testApp.app.inject({
    method: 'POST',
    url,
    headers: { cookie: `kassa_session=${session}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
}

/**
 * What the dashboard's shop test files share, bound to their app and merchant (getters: both are made in
 * `beforeAll`): a page that must open, with its CSRF token; a checkout for an order number and customer; the
 * lines of a CSV answer; the audit entries of one action.
 */
export function shopHelpers(testApp: () => TestApp, merchant: () => TestMerchant) {
  return {
    async form(session: string, url: string) {
      const response = await page(testApp(), session, url);
      expect(response.statusCode, url).toBe(200);
      return { html: response.body, csrf: csrfOf(response.body) };
    },
    checkoutFor(orderId: string, customer: Record<string, unknown>, amount = 1000) {
      const order = { ...simpleOrder('EUR', 'DK', amount, orderId), customer };
      return createCheckout(testApp(), merchant(), checkoutRequest(order));
    },
    csvRows(body: string): string[] {
      return body.split('\r\n').filter((line) => line !== '');
    },
    async auditActions(action: string) {
      const { rows } = await testApp().database.db.query<{
        actor_label: string;
        details: Record<string, unknown>;
      }>(
        'SELECT actor_label, details FROM audit_log WHERE action = $1 AND merchant_id = $2 ORDER BY created_at',
        [action, merchant().merchantId],
      );
      return rows;
    },
  };
}
