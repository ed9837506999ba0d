import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp } from '../../fixtures/test-app.ts';

describe('GET /', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('shows a browser a landing page linking the reference, the demo shop and the dashboard', async () => {
    const response = await t.app.inject({
      url: '/',
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    for (const href of ['/docs', '/demo', '/dashboard']) expect(response.body).toContain(`href="${href}"`);
    const csp = String(response.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(response.body).toContain(`<style nonce="${nonce}">`);
    expect(response.body).not.toContain('<script');
  });

  it('answers an API client with a problem document that points at the reference', async () => {
    for (const accept of [undefined, 'application/json', '*/*']) {
      const response = await t.app.inject({ url: '/', headers: accept ? { accept } : {} });
      expect(response.statusCode, accept).toBe(404);
      const problem = expectProblem(response);
      expect(problem.code).toBe('route_not_found');
      expect(problem.detail).toContain('/docs');
    }
  });

  it('leaves the demo shop out when it does not run', async () => {
    const production = await createTestApp({ env: { KASSA_DEMO: 'false' } });
    try {
      const response = await production.app.inject({ url: '/', headers: { accept: 'text/html' } });
      expect(response.body).not.toContain('href="/demo"');
      expect(response.body).toContain('href="/docs"');
    } finally {
      await production.close();
    }
  });
});
