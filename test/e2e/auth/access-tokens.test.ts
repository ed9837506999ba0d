import { SignJWT, generateKeyPair, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_PUBLICATION_DELAY_MS, createSigningKeyStore } from '../../../src/modules/auth/signing-keys.ts';
import { revokeCredential } from '../../../src/modules/merchants/credential.repository.ts';
import { createTestClock } from '../../fixtures/clock.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

describe('merchant authentication with access tokens and API keys', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  let liveMerchant: TestMerchant;
  let token: string;
  const clock = createTestClock();

  async function issueToken(m: TestMerchant) {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/oauth/tokens',
      payload: { client_id: m.clientId, client_secret: m.clientSecret, grant_type: 'client_credentials' },
    });
    return response.json().access_token as string;
  }
  const getMerchant = (authorization?: string) =>
    t.app.inject({ url: '/v1/merchant', headers: authorization ? { authorization } : {} });

  function expectInvalidToken(response: Awaited<ReturnType<typeof getMerchant>>) {
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
    expectProblem(response);
  }

  beforeAll(async () => {
    t = await createTestApp({ clock });
    merchant = await t.createMerchant();
    liveMerchant = await t.createMerchant({ livemode: true, name: 'Live Shop' });
    token = await issueToken(merchant);
  });
  afterAll(() => t.close());

  const segments = () => token.split('.') as [string, string, string];
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString());
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('accepts a valid token and a valid secret API key', async () => {
    expect((await getMerchant(`Bearer ${token}`)).statusCode).toBe(200);
    expect((await getMerchant(`Bearer ${merchant.apiKey}`)).statusCode).toBe(200);
  });

  it('requires credentials', async () => {
    const response = await getMerchant();
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Bearer realm="kassa"');
    expect(expectProblem(response).code).toBe('authentication_required');
  });

  it('refuses alg: none', async () => {
    const [, payload] = segments();
    const header = { ...decode(segments()[0]), alg: 'none' };
    expectInvalidToken(await getMerchant(`Bearer ${encode(header)}.${payload}.`));
  });

  it('refuses a token signed with another key, even under our kid', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const claims = decode(segments()[1]);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: decode(segments()[0]).kid })
      .sign(privateKey);
    expectInvalidToken(await getMerchant(`Bearer ${forged}`));
    const unknownKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'attacker' })
      .sign(privateKey);
    expectInvalidToken(await getMerchant(`Bearer ${unknownKid}`));
  });

  it('refuses an HS256 token keyed with our public key (algorithm confusion)', async () => {
    const jwks = (await t.app.inject({ url: '/.well-known/jwks.json' })).json().keys as JWK[];
    const secret = new TextEncoder().encode(JSON.stringify(jwks[0]));
    const forged = await new SignJWT(decode(segments()[1]))
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwks[0]!.kid! })
      .sign(secret);
    expectInvalidToken(await getMerchant(`Bearer ${forged}`));
  });

  async function signWithOurKey(
    mutate: (claims: Record<string, unknown>) => void,
    header: Record<string, unknown> = {},
  ) {
    const { kid, key } = await t.services.signingKeys.signingKey();
    const claims = decode(segments()[1]);
    mutate(claims);
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid, ...header }).sign(key);
  }

  it('refuses an expired token', async () => {
    const expired = await signWithOurKey((claims) => {
      claims.iat = Math.floor(Date.now() / 1000) - 4000;
      claims.exp = Math.floor(Date.now() / 1000) - 60;
    });
    const response = await getMerchant(`Bearer ${expired}`);
    expectInvalidToken(response);
    expect(response.json().detail).toMatch(/expired/);
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    expectInvalidToken(
      await getMerchant(`Bearer ${await signWithOurKey((c) => (c.aud = 'https://other.example/v1'))}`),
    );
    expectInvalidToken(
      await getMerchant(`Bearer ${await signWithOurKey((c) => (c.iss = 'https://evil.example'))}`),
    );
  });

  it('refuses typ: JWT (explicit typing, RFC 9068 / RFC 8725)', async () => {
    expectInvalidToken(await getMerchant(`Bearer ${await signWithOurKey(() => {}, { typ: 'JWT' })}`));
  });

  it('refuses a token with one byte flipped in any part', async () => {
    for (const index of [0, 1, 2] as const) {
      const parts = [...segments()];
      const part = parts[index]!;
      const position = Math.floor(part.length / 2);
      parts[index] =
        part.slice(0, position) + (part[position] === 'A' ? 'B' : 'A') + part.slice(position + 1);
      expectInvalidToken(await getMerchant(`Bearer ${parts.join('.')}`));
    }
  });

  it('refuses unknown, malformed and revoked API keys', async () => {
    const unknown = await getMerchant(`Bearer sk_test_${'a'.repeat(43)}`);
    expect(unknown.statusCode).toBe(401);
    expect(expectProblem(unknown).code).toBe('invalid_api_key');
    expect((await getMerchant('Bearer sk_test_short')).statusCode).toBe(401);
    expect((await getMerchant('Basic abc')).statusCode).toBe(401);

    const other = await t.createMerchant({ name: 'Revoked Shop' });
    const { rows } = await t.database.db.query<{ id: string }>(
      'SELECT id FROM api_keys WHERE merchant_id = $1',
      [other.merchantId],
    );
    expect(await revokeCredential(t.database.db, rows[0]!.id)).toBe(true);
    expect((await getMerchant(`Bearer ${other.apiKey}`)).statusCode).toBe(401);
  });

  it('stops accepting tokens of a revoked client', async () => {
    const other = await t.createMerchant({ name: 'Revoked Client Shop' });
    const otherToken = await issueToken(other);
    await revokeCredential(t.database.db, other.clientId);
    expectInvalidToken(await getMerchant(`Bearer ${otherToken}`));
  });

  it('keeps test and live credentials apart: each sees its own mode', async () => {
    expect((await getMerchant(`Bearer ${merchant.apiKey}`)).json()).toMatchObject({ livemode: false });
    expect(liveMerchant.apiKey.startsWith('sk_live_')).toBe(true);
    const live = await getMerchant(`Bearer ${liveMerchant.apiKey}`);
    expect(live.json()).toMatchObject({ id: liveMerchant.merchantId, livemode: true });
    const liveToken = await issueToken(liveMerchant);
    expect((await getMerchant(`Bearer ${liveToken}`)).json().livemode).toBe(true);
  });

  const kidOf = (jwt: string) => decode(jwt.split('.')[0]!).kid as string;
  const publishedKids = async () =>
    ((await t.app.inject({ url: '/.well-known/jwks.json' })).json().keys as JWK[]).map((key) => key.kid);

  it('rotates signing keys without downtime: publish first, sign later, old tokens keep working', async () => {
    const before = await issueToken(merchant);
    const oldKid = kidOf(before);
    const { kid: newKid } = await t.services.signingKeys.rotate();
    // Published at once, but not used for signing until every process has had time to load it.
    expect(await publishedKids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    expect(kidOf(await issueToken(merchant))).toBe(oldKid);

    clock.advance(KEY_PUBLICATION_DELAY_MS + 1_000);
    const after = await issueToken(merchant);
    expect(kidOf(after)).toBe(newKid);
    expect((await getMerchant(`Bearer ${before}`)).statusCode).toBe(200);
    expect((await getMerchant(`Bearer ${after}`)).statusCode).toBe(200);
    expect(await publishedKids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    const published = ((await t.app.inject({ url: '/.well-known/jwks.json' })).json().keys as JWK[]).find(
      (key) => key.kid === newKid,
    )!;
    expect(published.d).toBeUndefined(); // never the private half
    await expect(importJWK(published, 'RS256')).resolves.toBeTruthy();

    // After one token lifetime plus the margin, the old key is retired and no longer published.
    clock.advance((1800 + 301) * 1000);
    await t.services.signingKeys.refresh();
    expect(await publishedKids()).not.toContain(oldKid);
  });

  it('verifies tokens signed by a key another process rotated in', async () => {
    const otherProcess = createSigningKeyStore({
      db: t.database.db,
      keyring: t.services.keyring,
      clock,
      tokenTtlSeconds: 1800,
    });
    await otherProcess.initialise();
    const { kid } = await otherProcess.rotate();
    clock.advance(KEY_PUBLICATION_DELAY_MS + 1_000);
    const signing = await otherProcess.signingKey();
    expect(signing.kid).toBe(kid);
    const minted = await new SignJWT({
      ...decode(segments()[1]),
      iat: Math.floor(clock.now().getTime() / 1000),
      exp: Math.floor(clock.now().getTime() / 1000) + 600,
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
      .sign(signing.key);
    expect((await getMerchant(`Bearer ${minted}`)).statusCode).toBe(200);
  });
});
