import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { ADDRESS_FAILURE_LIMIT } from '../../src/modules/users/users.ts';
import { addUser, PASSWORD } from '../e2e/dashboard/dashboard-fixtures.ts';
import { signInThroughForms } from './dashboard-sign-in.ts';

/**
 * The lock-out in Debian's Chromium, with JavaScript off: ten wrong passwords typed into the sign-in form lock
 * the account, and the right password is then refused with the locked message (423, no session). Every try
 * comes from 127.0.0.1, so the per-address limit counts them too: eleven failures stay below it, and another
 * person signs in from the same browser afterwards — the refusal is the account's lock, not the address's.
 */
describe('dashboard lock-out in a real browser', { timeout: 120_000 }, () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant({ name: 'Lock-out Shop' });
    await addUser(t, merchant.merchantId, 'locked@lockout.test', 'support');
    await addUser(t, merchant.merchantId, 'colleague@lockout.test', 'support');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 375, height: 800 },
      javaScriptEnabled: false,
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (message) => {
      // The refused sign-ins answer 401 and 423 on purpose; anything else (a CSP refusal) is a problem.
      const expected = /status of (401 \(Unauthorized\)|423 \(Locked\))/.test(message.text());
      if (message.type() === 'error' && !expected) problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1')
        problems.push(`left loopback: ${request.url()}`);
    });
    return page;
  }

  /** Types the e-mail and password into the form the page shows and submits it; answers the POST's status. */
  async function submitSignIn(page: Page, email: string, password: string): Promise<number> {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    const [response] = await Promise.all([
      page.waitForResponse(
        (answer) =>
          answer.request().method() === 'POST' && new URL(answer.url()).pathname === '/dashboard/sign-in',
      ),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.waitForLoadState('load');
    return response.status();
  }

  const sessionCookie = async (page: Page) =>
    (await page.context().cookies()).find((cookie) => cookie.name.endsWith('kassa_session'));

  it('locks the account after 10 wrong passwords through the form; the right one is then refused', async () => {
    const email = 'locked@lockout.test';
    const page = await newPage();
    await page.goto(`${t.baseUrl}/dashboard/sign-in`);
    for (let attempt = 1; attempt <= 10; attempt++) {
      // The form that answers a failure is the next try's form (its own CSRF token), as a person retries.
      expect(await submitSignIn(page, email, `wrong password ${attempt}`), `try ${attempt}`).toBe(401);
      expect(await page.textContent('body')).toContain('The email or password is not correct.');
      expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in');
    }
    expect(await submitSignIn(page, email, PASSWORD)).toBe(423);
    const body = (await page.textContent('body'))!;
    expect(body).toContain('This account is locked after too many failed sign-ins. Try again in 30 minutes.');
    expect(body).not.toContain('Too many failed sign-ins from your network');
    expect(await sessionCookie(page)).toBeUndefined();
    await page.goto(`${t.baseUrl}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/sign-in'); // still no way in

    // The same address stays below its own limit: another person signs in from this browser's address.
    expect(11).toBeLessThan(ADDRESS_FAILURE_LIMIT);
    const colleague = await newPage();
    await signInThroughForms(colleague, t, 'colleague@lockout.test');
    expect(await sessionCookie(colleague)).toBeDefined();

    // Ten failures, one lock and the refusal while locked are in the audit log, from the browser's address.
    const { rows } = await t.database.pool.query<{ action: string; client_address: string }>(
      `SELECT action, client_address FROM audit_log WHERE object_id = (
         SELECT id FROM dashboard_users WHERE email_normalized = $1) ORDER BY created_at, id`,
      [email],
    );
    const actions = rows.map((row) => row.action);
    expect(actions.filter((action) => action === 'user.sign_in_failed')).toHaveLength(10);
    expect(actions.filter((action) => action === 'user.locked')).toHaveLength(1);
    expect(actions.at(-1)).toBe('user.sign_in_refused_locked');
    expect(actions).not.toContain('user.signed_in');
    expect(new Set(rows.map((row) => row.client_address))).toEqual(new Set(['127.0.0.1']));
    expect(problems).toEqual([]);
  });
});
