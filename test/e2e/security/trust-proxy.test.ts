/**
 * KASSA_TRUST_PROXY decides who may name the client's address in X-Forwarded-For. Every per-address limit
 * reads that address (request.ip): from an untrusted peer the header must not move it, or an attacker escapes
 * a limit by inventing addresses — and behind a trusted proxy the real client must be seen, or every client
 * shares the proxy's address. Real HTTP over loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseTrustProxy } from '../../../src/config.ts';
import { CLIENT_ADDRESS_FAILURE_LIMIT } from '../../../src/modules/auth/auth-throttle.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The address the request log names for a request sent over loopback with this X-Forwarded-For. */
async function addressSeen(app: TestApp, forwardedFor: string): Promise<string> {
  const marker = `/health?probe=${Math.random().toString(36).slice(2)}`;
  await fetch(`${app.baseUrl}${marker}`, { headers: { 'x-forwarded-for': forwardedFor } });
  const line = app.logs.map((text) => JSON.parse(text)).find((entry) => entry.req?.url === marker);
  return line.req.remoteAddress as string;
}

async function wrongSecretsFrom(app: TestApp, clientId: string, forwardedFor: string, count: number) {
  const statuses: number[] = [];
  for (let attempt = 0; attempt < count; attempt += 1) {
    const response = await fetch(`${app.baseUrl}/v1/oauth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ client_id: clientId, client_secret: 'guess', grant_type: 'client_credentials' }),
    });
    statuses.push(response.status);
  }
  return statuses;
}

describe('KASSA_TRUST_PROXY', () => {
  it('off (the default outside production): X-Forwarded-For is ignored, limits follow the TCP peer', async () => {
    t = await createTestApp({ listen: true });
    expect(await addressSeen(t, '203.0.113.9')).toBe('127.0.0.1');
    const merchant = await t.createMerchant();
    await wrongSecretsFrom(t, merchant.clientId, '203.0.113.1', CLIENT_ADDRESS_FAILURE_LIMIT);
    // Another forged address does not escape the limit.
    expect(await wrongSecretsFrom(t, merchant.clientId, '203.0.113.2', 1)).toEqual([429]);
  });

  it('loopback: the proxy on loopback names the client, and each client has its own limit', async () => {
    t = await createTestApp({ listen: true, env: { KASSA_TRUST_PROXY: 'loopback' } });
    expect(await addressSeen(t, '203.0.113.9')).toBe('203.0.113.9');
    // Only the hops the proxy vouches for: a client-sent value before it is not taken.
    expect(await addressSeen(t, '198.51.100.7, 203.0.113.9')).toBe('203.0.113.9');
    const merchant = await t.createMerchant();
    const first = await wrongSecretsFrom(
      t,
      merchant.clientId,
      '203.0.113.1',
      CLIENT_ADDRESS_FAILURE_LIMIT + 1,
    );
    expect(first.at(-1)).toBe(429);
    expect(await wrongSecretsFrom(t, merchant.clientId, '203.0.113.2', 1)).toEqual([401]);
  });

  it('a hop count and a CIDR list', async () => {
    t = await createTestApp({ listen: true, env: { KASSA_TRUST_PROXY: '2' } });
    expect(await addressSeen(t, '198.51.100.7, 203.0.113.9')).toBe('198.51.100.7');
    await t.close();
    t = await createTestApp({ listen: true, env: { KASSA_TRUST_PROXY: '10.0.0.0/8, 127.0.0.0/8' } });
    expect(await addressSeen(t, '203.0.113.9')).toBe('203.0.113.9');
    await t.close();
    // A peer outside the list (loopback is not in it) is the client, whatever it says.
    t = await createTestApp({ listen: true, env: { KASSA_TRUST_PROXY: '10.0.0.0/8,fd00::/8' } });
    expect(await addressSeen(t, '203.0.113.9')).toBe('127.0.0.1');
  });

  it('parses off, hops, lists and refuses anything else', () => {
    expect(parseTrustProxy(undefined, 'development')).toBe(false);
    expect(parseTrustProxy(undefined, 'test')).toBe(false);
    expect(parseTrustProxy(undefined, 'production')).toEqual(['loopback']);
    expect(parseTrustProxy('off', 'production')).toBe(false);
    expect(parseTrustProxy('1', 'production')).toBe(1);
    expect(parseTrustProxy(' 10.0.0.1 , 192.168.0.0/16,::1,uniquelocal', 'production')).toEqual([
      '10.0.0.1',
      '192.168.0.0/16',
      '::1',
      'uniquelocal',
    ]);
    for (const bad of ['true', 'proxy.example', '10.0.0.0/33', '10.0.0.1/8/1', '::1/129', '100']) {
      expect(() => parseTrustProxy(bad, 'production'), bad).toThrow(ConfigError);
    }
  });
});
