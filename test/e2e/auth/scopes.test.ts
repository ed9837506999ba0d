import { readFile } from 'node:fs/promises';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAuthentication } from '../../../src/http/plugins/authentication.ts';
import type { KassaApp } from '../../../src/http/http.types.ts';
import { RESOURCE_SCOPES } from '../../../src/modules/auth/scopes.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

type Operation = { security?: { bearer: string[] }[] };
type OpenApi = { paths: Record<string, Record<string, Operation>> };

/** Routes that are public by design (docs/api-conventions.md §12). */
const PUBLIC_OPERATIONS = new Set(['post /v1/oauth/tokens']);

describe('OAuth scopes', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let document: OpenApi;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
    document = (await t.app.inject({ url: '/openapi.json' })).json();
  });
  afterAll(() => t.close());

  async function tokenFor(scope?: string) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      headers: { 'content-type': 'application/json' },
      payload: {
        grant_type: 'client_credentials',
        client_id: merchant.clientId,
        client_secret: merchant.clientSecret,
        ...(scope === undefined ? {} : { scope }),
      },
    });
    return response;
  }

  async function bearer(scope?: string) {
    const response = await tokenFor(scope);
    expect(response.statusCode).toBe(200);
    return { authorization: `Bearer ${response.json().access_token}` };
  }

  it('a token asked for scope=checkouts carries only checkouts and cannot read the signing secret or webhooks', async () => {
    const response = await tokenFor('checkouts');
    expect(response.json().scope).toBe('checkouts');
    const headers = { authorization: `Bearer ${response.json().access_token}` };

    expect((await t.app.inject({ url: '/v1/checkouts', headers })).statusCode).toBe(200);

    for (const [method, url, scope] of [
      ['GET', '/v1/merchant/signing-secret', 'merchant:read'],
      ['GET', '/v1/webhook-endpoints', 'webhooks:read'],
      ['GET', '/v1/merchant', 'merchant:read'],
      ['POST', '/v1/webhook-endpoints', 'webhooks'],
      ['GET', '/v1/orders', 'orders:read'],
    ] as const) {
      const refused = await t.app.inject({
        method,
        url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: method === 'POST' ? { url: 'https://shop.example/hooks' } : undefined,
      });
      expect(refused.statusCode, `${method} ${url}`).toBe(403);
      const problem = expectProblem(refused);
      expect(problem).toMatchObject({ code: 'insufficient_scope', required_scope: scope });
      expect(refused.headers['www-authenticate']).toBe(
        `Bearer realm="kassa", error="insufficient_scope", scope="${scope}"`,
      );
    }
    // Nothing was created by the refused POST.
    const { rows } = await t.database.db.query('SELECT count(*)::int AS n FROM webhook_endpoints');
    expect(rows[0]?.n).toBe(0);
  });

  it('without a scope parameter the token carries every scope the client may have', async () => {
    const response = await tokenFor();
    expect(response.json().scope.split(' ').sort()).toEqual([...RESOURCE_SCOPES].sort());
    const headers = { authorization: `Bearer ${response.json().access_token}` };
    expect((await t.app.inject({ url: '/v1/merchant/signing-secret', headers })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/webhook-endpoints', headers })).statusCode).toBe(200);
  });

  it('NAME:read allows GET only; the bare name allows writing', async () => {
    const readOnly = await bearer('webhooks:read merchant:read');
    expect((await t.app.inject({ url: '/v1/webhook-endpoints', headers: readOnly })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/merchant', headers: readOnly })).statusCode).toBe(200);
    const patch = await t.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: { ...readOnly, 'content-type': 'application/json' },
      payload: { display_name: 'Changed by a read-only token' },
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.headers['www-authenticate']).toContain('scope="merchant"');

    const writer = await bearer('merchant');
    const allowed = await t.app.inject({
      method: 'PATCH',
      url: '/v1/merchant',
      headers: { ...writer, 'content-type': 'application/json' },
      payload: { display_name: 'Changed' },
    });
    expect(allowed.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/merchant', headers: writer })).statusCode).toBe(200);
  });

  it('refuses an unknown scope with the OAuth error invalid_scope', async () => {
    for (const scope of ['admin', 'checkouts:write', 'checkouts orders:delete', 'Checkouts']) {
      const response = await tokenFor(scope);
      expect(response.statusCode, scope).toBe(400);
      expect(response.json().error).toBe('invalid_scope');
    }
  });

  it('a secret API key holds every scope', async () => {
    for (const url of [
      '/v1/merchant/signing-secret',
      '/v1/webhook-endpoints',
      '/v1/checkouts',
      '/v1/orders',
    ]) {
      expect((await t.app.inject({ url, headers: merchant.headers })).statusCode, url).toBe(200);
    }
  });

  it('every authenticated operation declares its scope in /openapi.json and refuses a token without it', async () => {
    const walked: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const key = `${method} ${path}`;
        if (PUBLIC_OPERATIONS.has(key)) {
          expect(operation.security, key).toEqual([]); // public: an explicit empty requirement
          continue;
        }
        expect(operation.security, key).toHaveLength(1);
        const [scope] = operation.security![0]!.bearer;
        expect(scope, key).toBeDefined();
        const resource = scope!.replace(/:read$/, '');
        expect(RESOURCE_SCOPES, key).toContain(resource);
        expect(scope!.endsWith(':read'), key).toBe(method === 'get');

        // A token holding every other resource's bare scope is refused with this route's scope.
        const others = RESOURCE_SCOPES.filter((name) => name !== resource).join(' ');
        const url = path.replace(/\{[^}]+\}/g, 'x_00000000000000000000000000000000');
        const refused = await t.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: { ...(await bearer(others)), 'content-type': 'application/json' },
          payload: method === 'get' || method === 'delete' ? undefined : {},
        });
        expect(refused.statusCode, key).toBe(403);
        expect(refused.headers['www-authenticate'], key).toContain(`scope="${scope}"`);

        // With the scope the same request gets past authorisation (whatever the route then says).
        const passed = await t.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: { ...(await bearer(scope)), 'content-type': 'application/json' },
          payload: method === 'get' || method === 'delete' ? undefined : {},
        });
        expect(passed.statusCode, key).not.toBe(403);
        walked.push(`${method.toUpperCase()} ${path} ${scope}`);
      }
    }
    expect(walked.length).toBeGreaterThan(40);

    // docs/security.md lists the same table.
    const security = await readFile(new URL('../../../docs/security.md', import.meta.url), 'utf8');
    const section = security.slice(security.indexOf('## Scopes'));
    const documented = [...section.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) ([^`]+)` \| `([a-z_:]+)` \|/gm)]
      .map((match) => `${match[1]} ${match[2]} ${match[3]}`)
      .sort();
    expect(documented).toEqual([...walked].sort());
  });

  it('the app refuses to register an authenticated route without a scope, or an API route without auth', async () => {
    const make = () => {
      const app = Fastify() as unknown as KassaApp;
      registerAuthentication(app, {
        db: t.database.db,
        clock: t.services.clock,
        accessTokens: t.services.accessTokens,
      });
      return app;
    };
    expect(() => make().get('/v1/widgets', { config: { auth: 'merchant' } }, async () => ({}))).toThrow(
      /declares no valid config.scope/,
    );
    expect(() =>
      make().get(
        '/v1/widgets',
        { config: { auth: 'merchant', scope: 'widgets' as never } },
        async () => ({}),
      ),
    ).toThrow(/declares no valid config.scope/);
    expect(() => make().get('/v1/widgets', async () => ({}))).toThrow(/does not declare config.auth/);
    expect(() =>
      make().get('/v1/widgets', { config: { auth: 'merchant', scope: 'orders' } }, async () => ({})),
    ).not.toThrow();
  });
});
