/**
 * Secret guessing at POST /v1/oauth/tokens (auth-throttle.ts): made-up client ids from one address must not
 * lock the genuine clients at that address out, and parallel guesses at one client are counted before any of
 * them is verified — at most the limit are evaluated, the rest get 429 too_many_attempts + Retry-After.
 * A 401 invalid_client is only ever answered after the secret was verified, so counting 401s counts
 * verifications.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIENT_ADDRESS_FAILURE_LIMIT,
  UNKNOWN_CLIENT_ADDRESS_LIMIT,
} from '../../../src/modules/auth/auth-throttle.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

let t: TestApp;
let clientA: TestMerchant;
let clientB: TestMerchant;

beforeAll(async () => {
  t = await createTestApp();
  clientA = await t.createMerchant({ name: 'Client A' });
  clientB = await t.createMerchant({ name: 'Client B' });
});
afterAll(() => t.close());

const tokenRequest = (clientId: string, clientSecret: string, remoteAddress: string) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/oauth/tokens',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({
      client_id: clientId,
      client_secret: clientSecret,
      grant_type: 'client_credentials',
    }),
    remoteAddress,
  });

describe('OAuth client-secret throttle', () => {
  it("never refuses a correct secret for made-up client ids' failures from the same address", async () => {
    const shared = '127.0.0.21';
    const statuses: number[] = [];
    for (let attempt = 0; attempt < UNKNOWN_CLIENT_ADDRESS_LIMIT + 5; attempt += 1) {
      statuses.push((await tokenRequest(`cli_madeup${attempt}`, 'guess', shared)).statusCode);
    }
    // Made-up ids themselves are throttled per address …
    expect(statuses.slice(0, UNKNOWN_CLIENT_ADDRESS_LIMIT).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(UNKNOWN_CLIENT_ADDRESS_LIMIT)).toEqual([429, 429, 429, 429, 429]);
    // … but client B, at the same address, is not locked out.
    const genuine = await tokenRequest(clientB.clientId, clientB.clientSecret, shared);
    expect(genuine.statusCode).toBe(200);
    expect(genuine.json().token_type).toBe('Bearer');
  });

  it('evaluates at most the limit of parallel wrong secrets; the rest are 429 with Retry-After', async () => {
    const attacker = '127.0.0.22';
    const responses = await Promise.all(
      Array.from({ length: 40 }, (_, index) => tokenRequest(clientA.clientId, `guess-${index}`, attacker)),
    );
    const verified = responses.filter((response) => response.statusCode === 401);
    const refused = responses.filter((response) => response.statusCode === 429);
    expect(verified.length).toBe(CLIENT_ADDRESS_FAILURE_LIMIT);
    expect(refused.length).toBe(40 - CLIENT_ADDRESS_FAILURE_LIMIT);
    for (const response of refused) {
      expect(response.json().error).toBe('too_many_attempts');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The attempts were counted in the shared store, before verification: one row, every attempt in it.
    const { rows } = await t.database.db.query<{ points: number }>(
      'SELECT points FROM auth_failures WHERE key = $1',
      [`client_addr:${clientA.clientId}|${attacker}`],
    );
    expect(rows[0]?.points).toBe(40);
    // Client A from its own address, and client B from the attacker's, still get tokens.
    expect((await tokenRequest(clientA.clientId, clientA.clientSecret, '127.0.0.1')).statusCode).toBe(200);
    expect((await tokenRequest(clientB.clientId, clientB.clientSecret, attacker)).statusCode).toBe(200);
  });

  it('counts only failures: a correct secret gives its reservation back', async () => {
    const address = '127.0.0.23';
    for (let attempt = 0; attempt < CLIENT_ADDRESS_FAILURE_LIMIT * 2; attempt += 1) {
      expect((await tokenRequest(clientB.clientId, clientB.clientSecret, address)).statusCode).toBe(200);
    }
    const wrong = await tokenRequest(clientB.clientId, 'guess', address);
    expect(wrong.statusCode).toBe(401);
  });
});
