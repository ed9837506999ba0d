import type { TestApp } from '../../fixtures/test-app.ts';
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

export type SignInAttempt = { statusCode: number; body: string; session: string | undefined };

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
  };
}

export async function signIn(testApp: TestApp, email: string, remoteAddress = '127.0.0.1'): Promise<string> {
  const attempt = await attemptSignIn(testApp, email, PASSWORD, remoteAddress);
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
