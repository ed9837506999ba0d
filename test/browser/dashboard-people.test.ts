import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../fixtures/axe.ts';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../fixtures/test-app.ts';
import { addUser, PASSWORD } from '../e2e/dashboard/dashboard-fixtures.ts';

/**
 * The people side of the dashboard in Debian's Chromium (the pages have no script of their own): an owner signs
 * in with password and TOTP (enrolling first, the code computed from the secret shown on the page), invites a
 * viewer through a one-time link, the viewer signs in through it and the server refuses the viewer's team
 * action; a password change ends the other sessions. axe finds no WCAG A/AA violation on the pages added.
 */
describe('dashboard people in a real browser', { timeout: 120_000 }, () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    merchant = await t.createMerchant({ name: 'People Shop' });
    await addUser(t, merchant.merchantId, 'owner@people.test', 'owner');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await t?.close();
  });

  async function newPage(options: { expectRefusals?: boolean } = {}): Promise<Page> {
    // Scripts on only so that axe can run in the page: the dashboard's pages have none of their own.
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && !options.expectRefusals)
        problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.protocol !== 'data:' && url.hostname !== '127.0.0.1')
        problems.push(`left loopback: ${request.url()}`);
    });
    return page;
  }

  async function accessible(page: Page) {
    await page.waitForLoadState('load');
    const violations = await Promise.race([
      axeViolations(page),
      new Promise<string>((resolve) => setTimeout(() => resolve('axe did not finish'), 45_000)),
    ]);
    expect(violations, page.url()).toEqual([]);
  }

  let secret = '';
  let lastStep = 0;
  /**
   * The authenticator's next code. The server accepts a code of the current time step or its neighbours,
   * each step once: when this test has used those already (three sign-ins within 30 s), it waits for the
   * clock to reach a fresh step instead of sending a code from too far ahead.
   */
  async function code(): Promise<string> {
    while (lastStep + 1 > TOTP.counter() + 1) await new Promise((resolve) => setTimeout(resolve, 500));
    const step = Math.max(TOTP.counter(), lastStep + 1);
    lastStep = step;
    return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: step * 30_000 });
  }

  async function signInWithPassword(page: Page, email: string, password: string) {
    await page.goto(`${t.baseUrl}/dashboard/sign-in`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  let ownerPage: Page;
  let invitationLink = '';

  it('enrols the owner at first sign-in (QR code and key shown), then signs in with password and TOTP', async () => {
    const page = await newPage();
    await signInWithPassword(page, 'owner@people.test', PASSWORD);
    await page.waitForURL(`${t.baseUrl}/dashboard/sign-in/enrol`);
    expect(await page.locator('img.dash-qr').getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    await accessible(page);
    secret = (await page.locator('.dash-secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.getByLabel('Authentication code').fill(await code());
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    expect(await page.getByRole('list', { name: 'Recovery codes' }).locator('li').count()).toBe(10);
    await accessible(page);
    await page.getByRole('link', { name: 'Continue to the dashboard' }).click();
    await page.waitForURL(`${t.baseUrl}/dashboard`);

    // A new browser: password, then the code.
    ownerPage = await newPage();
    await signInWithPassword(ownerPage, 'owner@people.test', PASSWORD);
    await ownerPage.waitForURL(`${t.baseUrl}/dashboard/sign-in/code`);
    await accessible(ownerPage);
    await ownerPage.getByLabel('Authentication code').fill(await code());
    await ownerPage.getByRole('button', { name: 'Verify' }).click();
    await ownerPage.waitForURL(`${t.baseUrl}/dashboard`);
    expect(await ownerPage.textContent('h1')).toBe('Home');
    expect(problems).toEqual([]);
  });

  it('invites a viewer by link; the viewer joins through it and signs in', async () => {
    await ownerPage.getByRole('link', { name: 'Team' }).click();
    await ownerPage.waitForURL(`${t.baseUrl}/dashboard/team`);
    await accessible(ownerPage);
    await ownerPage.getByLabel('Email').fill('viewer@people.test');
    await ownerPage.getByLabel('Role', { exact: true }).selectOption('viewer');
    await ownerPage.getByRole('button', { name: 'Create invitation link' }).click();
    invitationLink = (await ownerPage.locator('#invitation-link').textContent())!.trim();
    expect(invitationLink).toMatch(/\/dashboard\/invitations\/[A-Za-z0-9_-]{43}$/);
    await accessible(ownerPage);

    const viewer = await newPage({ expectRefusals: true });
    await viewer.goto(invitationLink);
    expect(await viewer.textContent('h1')).toContain('Join People Shop');
    await accessible(viewer);
    await viewer.getByLabel('Password').fill('viewer password 123');
    await viewer.getByRole('button', { name: 'Join and sign in' }).click();
    await viewer.waitForURL(`${t.baseUrl}/dashboard`);
    expect(await viewer.textContent('.dash-signout__who')).toContain('viewer');

    // The Team page is read-only for a viewer, and the server refuses a forged team action.
    await viewer.goto(`${t.baseUrl}/dashboard/team`);
    expect(await viewer.getByRole('button', { name: 'Create invitation link' }).count()).toBe(0);
    const csrf = await viewer.locator('input[name="csrf_token"]').first().getAttribute('value');
    const refused = await viewer.request.post(`${t.baseUrl}/dashboard/team/invitations`, {
      form: { csrf_token: csrf!, form_key: 'b'.repeat(32), email: 'sneaky@people.test', role: 'owner' },
    });
    expect(refused.status()).toBe(403);
    // The link works once.
    const again = await viewer.request.get(invitationLink);
    expect(again.status()).toBe(410);
  });

  it('shows the audit log of the sign-ins and the invitation', async () => {
    await ownerPage.goto(`${t.baseUrl}/dashboard/audit-log`);
    const text = await ownerPage.textContent('main');
    expect(text).toContain('user.invitation_created');
    expect(text).toContain('user.invitation_accepted');
    expect(text).toContain('user.two_factor_enabled');
    await accessible(ownerPage);
    await ownerPage.getByLabel('Action').fill('user.invitation_created');
    await ownerPage.getByRole('button', { name: 'Filter' }).click();
    await ownerPage.waitForURL(/audit-log\?action=user\.invitation_created/);
    expect(await ownerPage.locator('tbody tr').count()).toBe(1);
    await ownerPage.goto(`${t.baseUrl}/dashboard/account/two-factor`);
    await accessible(ownerPage);
    expect(problems).toEqual([]);
  });

  it('ends the other sessions when the password is changed', async () => {
    const other = await newPage({ expectRefusals: true });
    await signInWithPassword(other, 'owner@people.test', PASSWORD);
    await other.waitForURL(`${t.baseUrl}/dashboard/sign-in/code`);
    await other.getByLabel('Authentication code').fill(await code());
    await other.getByRole('button', { name: 'Verify' }).click();
    await other.waitForURL(`${t.baseUrl}/dashboard`);

    await ownerPage.goto(`${t.baseUrl}/dashboard/account`);
    await ownerPage.getByLabel('Current password').fill(PASSWORD);
    await ownerPage.getByLabel('New password').fill('a brand new password');
    await ownerPage.getByRole('button', { name: 'Change password' }).click();
    await ownerPage.waitForURL(`${t.baseUrl}/dashboard/account?notice=password_changed`);

    await other.goto(`${t.baseUrl}/dashboard/orders`);
    await other.waitForURL(`${t.baseUrl}/dashboard/sign-in`);
    expect(await other.textContent('h1')).toContain('Sign in');
    expect(problems).toEqual([]);
  });
});
