import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../../src/lib/errors.ts';
import { redactUrl } from '../../../src/http/logging.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { readFile } from 'node:fs/promises';

describe('errors, request ids, logs and the API description', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(() => t.close());

  it('answers an unknown route with a 404 problem', async () => {
    const response = await t.app.inject({ url: '/v1/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(expectProblem(response).code).toBe('route_not_found');
  });

  it('answers a wrong method with 405 and an Allow header', async () => {
    const response = await t.app.inject({ method: 'DELETE', url: '/v1/merchant', headers: merchant.headers });
    expect(response.statusCode).toBe(405);
    expect(String(response.headers.allow).split(', ')).toContain('GET');
    expect(String(response.headers.allow)).not.toContain('DELETE');
    expect(expectProblem(response).code).toBe('method_not_allowed');
  });

  it('answers an unsupported content type with 415', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      headers: { 'content-type': 'application/xml' },
      payload: '<grant/>',
    });
    expect(response.statusCode).toBe(415);
    expect(expectProblem(response).code).toBe('unsupported_media_type');
  });

  it('answers malformed JSON with 400 and never echoes the parser internals', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      headers: { 'content-type': 'application/json' },
      payload: '{"client_id": ',
    });
    expect(response.statusCode).toBe(400);
    const problem = expectProblem(response);
    expect(problem.code).toBe('malformed_json');
    expect(response.body).not.toMatch(/at JSON\.parse|node_modules|stack/);
  });

  it('refuses prototype pollution in JSON bodies', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__": {"polluted": true}, "grant_type": "client_credentials"}',
    });
    expect(response.statusCode).toBe(400);
    expectProblem(response);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers an oversized body with 413', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ grant_type: 'x'.repeat(1024 * 1024 + 10) }),
    });
    expect(response.statusCode).toBe(413);
    expect(expectProblem(response).code).toBe('payload_too_large');
  });

  it('gives every response a request id, and keeps a valid incoming one', async () => {
    const generated = await t.app.inject({ url: '/healthz' });
    expect(generated.headers['x-request-id']).toMatch(/^req_[0-9a-f]{24}$/);
    const echoed = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-123' } });
    expect(echoed.headers['x-request-id']).toBe('trace-123');
    const problem = expectProblem(
      await t.app.inject({ url: '/nope', headers: { 'x-request-id': 'trace-456' } }),
    );
    expect((problem as { request_id?: string }).request_id).toBe('trace-456');
  });

  it('reports readiness from the database', async () => {
    const response = await t.app.inject({ url: '/readyz' });
    expect(response.json()).toEqual({ status: 'ready', database: 'ok' });
  });

  it('keeps credentials out of the logs', async () => {
    await t.app.inject({ url: '/v1/merchant', headers: merchant.headers });
    await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      payload: {
        client_id: merchant.clientId,
        client_secret: merchant.clientSecret,
        grant_type: 'client_credentials',
      },
    });
    const logs = t.logs.join('\n');
    expect(logs).toContain('request completed');
    expect(logs).not.toContain(merchant.apiKey);
    expect(logs).not.toContain(merchant.clientSecret);
  });

  it('masks secret URL segments and token parameters in logged URLs', () => {
    expect(redactUrl('/pay/chk_123/abcdef0123?x=1')).toBe('/pay/chk_123/[redacted]?x=1');
    expect(redactUrl('/v1/checkouts/chk_1/payment-methods?client_token=ct_secret&device=mobile')).toBe(
      '/v1/checkouts/chk_1/payment-methods?client_token=[redacted]&device=mobile',
    );
  });

  it('serves an OpenAPI 3.1 document with the routes and security scheme, and a readable /docs page', async () => {
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.paths['/v1/oauth/tokens'].post).toBeDefined();
    expect(spec.paths['/v1/merchant'].get).toBeDefined();
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const docs = await t.app.inject({ url: '/docs' });
    expect([200, 302]).toContain(docs.statusCode);
    const page = await t.app.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/swagger/i);
  });

  it('documents every error code of the catalogue in docs/errors.md', async () => {
    const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) {
      expect(doc, `docs/errors.md must document ${code}`).toMatch(
        new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`),
      );
    }
  });
});
