import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ADDRESS_FAILURE_LIMIT } from '../../../src/modules/auth/auth-throttle.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

describe('POST /v1/oauth/tokens', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(() => t.close());

  const tokenRequest = (payload: string, headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
    t.app.inject({ method: 'POST', url: '/v1/oauth/tokens', payload, headers, remoteAddress });

  async function expectUsableToken(response: Awaited<ReturnType<typeof tokenRequest>>) {
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 1800 });
    const me = await t.app.inject({
      url: '/v1/merchant',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: merchant.merchantId, livemode: false });
  }

  it('accepts JSON (the redirect-checkout flow), form-encoded and HTTP Basic client authentication', async () => {
    await expectUsableToken(
      await tokenRequest(
        JSON.stringify({
          client_id: merchant.clientId,
          client_secret: merchant.clientSecret,
          grant_type: 'client_credentials',
        }),
        { 'content-type': 'application/json' },
      ),
    );
    await expectUsableToken(
      await tokenRequest(
        new URLSearchParams({
          client_id: merchant.clientId,
          client_secret: merchant.clientSecret,
          grant_type: 'client_credentials',
        }).toString(),
        { 'content-type': 'application/x-www-form-urlencoded' },
      ),
    );
    const basic = Buffer.from(`${merchant.clientId}:${encodeURIComponent(merchant.clientSecret)}`).toString(
      'base64',
    );
    await expectUsableToken(
      await tokenRequest('grant_type=client_credentials', {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${basic}`,
      }),
    );
  });

  it('issues an RFC 9068 token: typ at+jwt and the required claims', async () => {
    const response = await tokenRequest(
      JSON.stringify({
        client_id: merchant.clientId,
        client_secret: merchant.clientSecret,
        grant_type: 'client_credentials',
      }),
      { 'content-type': 'application/json' },
    );
    const [header, payload] = response
      .json()
      .access_token.split('.')
      .slice(0, 2)
      .map((part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(typeof header.kid).toBe('string');
    expect(payload).toMatchObject({
      iss: t.config.publicUrl,
      aud: `${t.config.publicUrl}/v1`,
      sub: merchant.clientId,
      client_id: merchant.clientId,
    });
    for (const claim of ['iat', 'exp', 'jti', 'scope']) expect(payload).toHaveProperty(claim);
    expect(payload.exp - payload.iat).toBe(1800);
  });

  it('answers an unknown client and a wrong secret identically (invalid_client, RFC 6749 body)', async () => {
    const unknown = await tokenRequest(
      JSON.stringify({
        client_id: 'cli_00000000000000000000000000000000',
        client_secret: 'x',
        grant_type: 'client_credentials',
      }),
      { 'content-type': 'application/json' },
      '127.0.0.10',
    );
    const wrong = await tokenRequest(
      JSON.stringify({
        client_id: merchant.clientId,
        client_secret: 'not-the-secret',
        grant_type: 'client_credentials',
      }),
      { 'content-type': 'application/json' },
      '127.0.0.10',
    );
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
    expect(wrong.json()).toEqual({
      error: 'invalid_client',
      error_description: 'Client authentication failed',
      status: 401,
    });
    expect(wrong.headers['cache-control']).toBe('no-store');
  });

  it('sends WWW-Authenticate: Basic when Basic authentication failed', async () => {
    const response = await tokenRequest(
      'grant_type=client_credentials',
      {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${merchant.clientId}:wrong`).toString('base64')}`,
      },
      '127.0.0.11',
    );
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Basic realm="kassa"/);
  });

  it.each([
    [{ client_id: 'a', client_secret: 'b' }, 400, 'invalid_request'],
    [{ client_id: 'a', client_secret: 'b', grant_type: 'password' }, 400, 'unsupported_grant_type'],
    [{ grant_type: 'client_credentials' }, 400, 'invalid_request'],
    [
      { client_id: 'a', client_secret: 'b', grant_type: 'client_credentials', scope: 'admin' },
      400,
      'invalid_scope',
    ],
    [{ client_id: 5, client_secret: 'b', grant_type: 'client_credentials' }, 400, 'invalid_request'],
  ])('refuses %j with %i %s', async (body, status, error) => {
    const response = await tokenRequest(JSON.stringify(body), { 'content-type': 'application/json' });
    expect(response.statusCode).toBe(status);
    expect(response.json().error).toBe(error);
  });

  it('refuses Basic and body credentials together', async () => {
    const response = await tokenRequest(
      new URLSearchParams({ grant_type: 'client_credentials', client_id: merchant.clientId }).toString(),
      {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${merchant.clientId}:${merchant.clientSecret}`).toString('base64')}`,
      },
    );
    expect(response.json().error).toBe('invalid_request');
  });

  it('throttles repeated wrong secrets per client and address with 429 + Retry-After, without blocking other addresses', async () => {
    const attacker = '127.0.0.66';
    const wrong = JSON.stringify({
      client_id: merchant.clientId,
      client_secret: 'guess',
      grant_type: 'client_credentials',
    });
    for (let attempt = 0; attempt < CLIENT_ADDRESS_FAILURE_LIMIT; attempt += 1) {
      expect((await tokenRequest(wrong, { 'content-type': 'application/json' }, attacker)).statusCode).toBe(
        401,
      );
    }
    const blocked = await tokenRequest(wrong, { 'content-type': 'application/json' }, attacker);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.json().error).toBe('too_many_attempts');

    // The merchant's own server, at another address, is not slowed down by the attack.
    const valid = JSON.stringify({
      client_id: merchant.clientId,
      client_secret: merchant.clientSecret,
      grant_type: 'client_credentials',
    });
    await expectUsableToken(await tokenRequest(valid, { 'content-type': 'application/json' }, '127.0.0.1'));
  });

  it('stores client secrets only as digests', async () => {
    const { rows } = await t.database.db.query<{ secret_sha256: Buffer }>(
      'SELECT secret_sha256 FROM api_clients WHERE id = $1',
      [merchant.clientId],
    );
    expect(rows[0]!.secret_sha256.length).toBe(32);
    const dump = await t.database.db.query(`SELECT row_to_json(c)::text AS row FROM api_clients c`);
    expect(JSON.stringify(dump.rows)).not.toContain(merchant.clientSecret);
  });
});
