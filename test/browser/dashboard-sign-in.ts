import type { Page } from 'playwright-core';
import type { TestApp } from '../fixtures/test-app.ts';
import { deviceOf, nextCode, PASSWORD, rememberDevice } from '../e2e/dashboard/dashboard-fixtures.ts';

/**
 * Signs a person in through the dashboard's own forms, as a browser does: the password, then — for someone
 * who must have two-factor (owners) — enrolment at the first sign-in (the key read off the page, the code
 * computed with otpauth) or the code of the authenticator afterwards. Ends on the dashboard's Home.
 */
export async function signInThroughForms(page: Page, t: TestApp & { baseUrl: string }, email: string) {
  await page.goto(`${t.baseUrl}/dashboard/sign-in`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(
    (url) => url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/sign-in/'),
  );
  const now = () => t.services.clock.now().getTime();
  const path = new URL(page.url()).pathname;
  if (path === '/dashboard/sign-in/enrol') {
    const device = {
      secret: (await page.locator('.dash-secret').textContent())!.trim(),
      lastStep: 0,
      recoveryCodes: [] as string[],
    };
    rememberDevice(t, email, device);
    await page.getByLabel('Authentication code').fill(nextCode(device, now())!);
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    device.recoveryCodes = await page
      .getByRole('list', { name: 'Recovery codes' })
      .locator('li')
      .allTextContents();
    await page.getByRole('link', { name: 'Continue to the dashboard' }).click();
  } else if (path === '/dashboard/sign-in/code') {
    const device = deviceOf(t, email);
    if (!device) throw new Error(`the test does not know the two-factor key of ${email}`);
    await page
      .getByLabel('Authentication code')
      .fill(nextCode(device, now()) ?? device.recoveryCodes.shift()!);
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.waitForURL(`${t.baseUrl}/dashboard`);
}
