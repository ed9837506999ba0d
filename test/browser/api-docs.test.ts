import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../fixtures/browser.ts';
import { createTestApp, type TestApp } from '../fixtures/test-app.ts';

describe('the API reference at /docs in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders the operations from /openapi.json, with no request leaving loopback and nothing refused by its CSP', async () => {
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    const foreignRequests: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!['127.0.0.1', 'localhost'].includes(url.hostname) && url.protocol !== 'data:')
        foreignRequests.push(request.url());
    });
    await page.goto(`${t.baseUrl}/docs/`);
    // Swagger UI renders the whole document before the first path shows; on a loaded 2-core machine that took over 15 s.
    await page.getByText('/v1/oauth/tokens').first().waitFor({ timeout: 45_000 });
    expect(await page.getByText('Kassa API').first().isVisible()).toBe(true);
    expect(await page.getByText('/v1/merchant').first().isVisible()).toBe(true);
    expect(foreignRequests).toEqual([]);
    // The page runs under the CSP of every page (docs/security.md): nothing of swagger-ui is refused by it.
    const response = await page.request.get(`${t.baseUrl}/docs/`);
    expect(response.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(cspViolations).toEqual([]);
    await page.close();
  });
});
