/**
 * The audit trail (docs/security.md, "Audit trail"): creating, rolling and revoking API keys and OAuth
 * clients, rolling the return-URL signing secret and rotating the token-signing key each write an audit
 * entry — naming the credential (or the command line) that did it and the client address — and, except for
 * the gateway-wide token-signing key, an event of the same name; none of them carries a secret. Read with
 * GET /v1/audit-log (scope merchant:read) and `kassa audit-log list`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries } from '../../../src/modules/audit/audit.service.ts';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const KASSA_BIN = fileURLToPath(new URL('../../../bin/kassa.js', import.meta.url));
const run = promisify(execFile);

let t: TestApp;
let merchant: TestMerchant;
let liveMerchantKey: string;
let callerKeyId: string;
let dataDir: string;

beforeAll(async () => {
  t = await createTestApp();
  merchant = await t.createMerchant();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'kassa-audit-'));
  const keys = await t.app.inject({ url: '/v1/api-keys', headers: merchant.headers });
  callerKeyId = (keys.json() as Json).data[0].id;
  // The same merchant's live-mode key, made by the operator.
  const { credentials } = await t.database.db.transaction(async (tx) => {
    const { createApiKey } = await import('../../../src/modules/merchants/api-key.service.ts');
    const { secret } = await createApiKey(
      tx,
      { merchantId: merchant.merchantId, livemode: true, scopes: new Set(['api_keys', 'merchant']) },
      { type: 'restricted', scopes: ['api_keys', 'merchant'] },
    );
    return { credentials: { apiKey: secret } };
  });
  liveMerchantKey = credentials.apiKey;
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await t.close();
});

function call(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  headers: Record<string, string>,
  payload?: object,
) {
  return t.app.inject({
    method,
    url,
    headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { payload }),
    remoteAddress: '127.0.0.7',
  });
}

async function auditLog(headers: Record<string, string>, query = ''): Promise<Json[]> {
  const response = await call('GET', `/v1/audit-log?limit=100${query}`, headers);
  expect(response.statusCode, response.body).toBe(200);
  const page = response.json() as Json;
  expect(page.object).toBe('list');
  return page.data;
}

async function eventsAbout(objectId: string): Promise<Json[]> {
  const response = await call('GET', '/v1/events?limit=100', merchant.headers);
  return (response.json() as Json).data.filter((event: Json) => event.object_id === objectId);
}

describe('audit trail', () => {
  it('records an API key’s creation, roll and revocation, each also an event, without the secret', async () => {
    const created = await call('POST', '/v1/api-keys', merchant.headers, {
      type: 'restricted',
      scopes: ['orders:read'],
      name: 'reporting',
    });
    expect(created.statusCode).toBe(201);
    const key = created.json() as Json;

    const rolled = await call('POST', `/v1/api-keys/${key.id}/roll`, merchant.headers, {
      expire_previous_in_seconds: 60,
    });
    expect(rolled.statusCode).toBe(200);
    const successor = rolled.json() as Json;
    const revoked = await call('DELETE', `/v1/api-keys/${successor.id}`, merchant.headers);
    expect(revoked.statusCode).toBe(200);

    const entries = await auditLog(merchant.headers, '&action=api_key.*');
    const about = (id: string) =>
      entries.filter((entry) => entry.object_id === id).map((entry) => entry.action);
    expect(about(key.id)).toEqual(['api_key.rolled', 'api_key.created']);
    expect(about(successor.id)).toEqual(['api_key.revoked', 'api_key.created']);
    const creation = entries.find(
      (entry) => entry.object_id === key.id && entry.action === 'api_key.created',
    );
    expect(creation).toMatchObject({
      object: 'audit_log_entry',
      id: expect.stringMatching(/^aud_/),
      actor: { type: 'credential', id: callerKeyId, label: null },
      object_type: 'api_key',
      client_address: '127.0.0.7',
      details: { livemode: false, redacted_secret: key.redacted_secret, scopes: ['orders:read'] },
    });
    const roll = entries.find((entry) => entry.action === 'api_key.rolled');
    expect(roll!.details).toMatchObject({ replaced_by: successor.id, expires_at: expect.any(String) });

    const keyEvents = await eventsAbout(key.id);
    expect(keyEvents.map((event) => event.type)).toEqual(['api_key.rolled', 'api_key.created']);
    expect(keyEvents[1]).toMatchObject({
      actor: { type: 'credential', id: callerKeyId },
      data: { id: key.id, object: 'api_key', scopes: ['orders:read'], status: 'ACTIVE', name: 'reporting' },
    });
    const successorEvents = await eventsAbout(successor.id);
    expect(successorEvents[0]).toMatchObject({ type: 'api_key.revoked', data: { status: 'REVOKED' } });

    const everything = JSON.stringify([entries, keyEvents, successorEvents]);
    for (const secret of [key.secret, successor.secret]) {
      expect(secret).toMatch(/^rk_test_/);
      expect(everything).not.toContain(secret.slice(8, 30));
    }
  });

  it('records OAuth client creation, secret roll and revocation, and the signing-secret roll', async () => {
    const created = await call('POST', '/v1/oauth-clients', merchant.headers, { scopes: ['checkouts'] });
    expect(created.statusCode).toBe(201);
    const client = created.json() as Json;
    const rolled = await call('POST', `/v1/oauth-clients/${client.id}/roll-secret`, merchant.headers, {});
    expect(rolled.statusCode).toBe(200);
    expect((await call('DELETE', `/v1/oauth-clients/${client.id}`, merchant.headers)).statusCode).toBe(200);
    const signing = await call('POST', '/v1/merchant/signing-secret/roll', merchant.headers, {
      expire_previous_in_seconds: 30,
    });
    expect(signing.statusCode).toBe(200);

    const entries = await auditLog(merchant.headers);
    expect(entries.filter((entry) => entry.object_id === client.id).map((entry) => entry.action)).toEqual([
      'oauth_client.revoked',
      'oauth_client.rolled',
      'oauth_client.created',
    ]);
    expect(
      (await eventsAbout(client.id)).map((event) => [event.type, event.data.object, event.actor.id]),
    ).toEqual([
      ['oauth_client.revoked', 'oauth_client', callerKeyId],
      ['oauth_client.rolled', 'oauth_client', callerKeyId],
      ['oauth_client.created', 'oauth_client', callerKeyId],
    ]);
    const secretRoll = entries.find((entry) => entry.action === 'signing_secret.rolled');
    expect(secretRoll).toMatchObject({
      actor: { type: 'credential', id: callerKeyId },
      details: { object: 'signing_secret', livemode: false, previous_secret_expires_at: expect.any(String) },
    });
    const events = (
      await call('GET', '/v1/events?type=signing_secret.rolled', merchant.headers)
    ).json() as Json;
    expect(events.data).toHaveLength(1);
    const everything = JSON.stringify([entries, events]);
    for (const secret of [client.secret, (rolled.json() as Json).secret, (signing.json() as Json).secret]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('writes nothing for a change that was refused', async () => {
    const restricted = (
      await call('POST', '/v1/api-keys', merchant.headers, { type: 'restricted', scopes: ['api_keys'] })
    ).json() as Json;
    const before = (await auditLog(merchant.headers)).length;
    const refused = await call(
      'POST',
      '/v1/api-keys',
      { authorization: `Bearer ${restricted.secret}` },
      {
        type: 'secret',
      },
    );
    expect(refused.statusCode).toBe(403);
    expect((await auditLog(merchant.headers)).length).toBe(before);
  });

  it('lets new event types be subscribed to', async () => {
    const endpoint = await call('POST', '/v1/webhook-endpoints', merchant.headers, {
      url: 'https://merchant.example/hooks',
      enabled_events: ['api_key.created', 'api_key.revoked', 'oauth_client.rolled', 'signing_secret.rolled'],
    });
    expect(endpoint.statusCode, endpoint.body).toBe(201);
  });

  it('pages newest first, filters, needs merchant:read, and keeps live entries from test-mode callers', async () => {
    const first = await call('GET', '/v1/audit-log?limit=2', merchant.headers);
    const page = first.json() as Json;
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    const second = (
      await call('GET', `/v1/audit-log?limit=2&starting_after=${page.next_cursor}`, merchant.headers)
    ).json() as Json;
    const all = await auditLog(merchant.headers);
    expect([...page.data, ...second.data].map((entry: Json) => entry.id)).toEqual(
      all.slice(0, 4).map((e) => e.id),
    );
    expect(all.map((entry) => entry.created_at)).toEqual(
      [...all.map((entry) => entry.created_at)].sort().reverse(),
    );

    // A live-mode change is visible to live-mode callers only.
    const liveHeaders = { authorization: `Bearer ${liveMerchantKey}` };
    const liveKey = (
      await call('POST', '/v1/api-keys', liveHeaders, { type: 'restricted', scopes: ['merchant:read'] })
    ).json() as Json;
    expect(liveKey.secret).toMatch(/^rk_live_/);
    expect((await auditLog(liveHeaders)).some((entry) => entry.object_id === liveKey.id)).toBe(true);
    expect((await auditLog(merchant.headers)).some((entry) => entry.object_id === liveKey.id)).toBe(false);

    const reader = (
      await call('POST', '/v1/api-keys', merchant.headers, { type: 'restricted', scopes: ['merchant:read'] })
    ).json() as Json;
    expect(
      (await call('GET', '/v1/audit-log', { authorization: `Bearer ${reader.secret}` })).statusCode,
    ).toBe(200);
    const outsider = (
      await call('POST', '/v1/api-keys', merchant.headers, { type: 'restricted', scopes: ['orders:read'] })
    ).json() as Json;
    const refused = await call('GET', '/v1/audit-log', { authorization: `Bearer ${outsider.secret}` });
    expect(refused.statusCode).toBe(403);
    expect(expectProblem(refused).code).toBe('insufficient_scope');

    const other = await t.createMerchant({ name: 'Other' });
    expect(await auditLog(other.headers)).toEqual([]);
  });

  it('records what the command line does, and lists it with kassa audit-log list', async () => {
    const kassa = (...args: string[]) =>
      run(process.execPath, [KASSA_BIN, ...args], {
        timeout: 60_000,
        env: {
          ...process.env,
          DATABASE_URL: t.database.connectionString,
          KASSA_ENV: 'test',
          KASSA_MASTER_KEY: t.masterKey,
          KASSA_DATA_DIR: dataDir,
          KASSA_LOG_LEVEL: 'warn',
        },
      });
    const created = JSON.parse(
      (
        await kassa(
          'api-keys',
          'create',
          '--merchant',
          merchant.merchantId,
          '--type',
          'restricted',
          '--scopes',
          'orders',
          '--json',
        )
      ).stdout,
    ) as Json;
    await kassa('api-keys', 'revoke', created.id);
    await kassa('signing-keys', 'rotate');

    const entries = await auditLog(merchant.headers, `&object_id=${created.id}`);
    expect(
      entries.map((entry) => [entry.action, entry.actor.type, entry.actor.id, entry.client_address]),
    ).toEqual([
      ['api_key.revoked', 'system', 'cli', null],
      ['api_key.created', 'system', 'cli', null],
    ]);
    expect(entries[0]!.actor.label).toBe(os.userInfo().username);
    const [revokedEvent] = await eventsAbout(created.id);
    expect(revokedEvent).toMatchObject({ type: 'api_key.revoked', actor: { type: 'system', id: 'cli' } });

    const gatewayWide = await listAuditEntries(t.database.db, null, { limit: 10 });
    expect(gatewayWide.map((entry) => entry.action)).toEqual(['signing_key.rotated']);
    expect(gatewayWide[0]!.objectId).toBeTruthy();

    const listed = await kassa(
      'audit-log',
      'list',
      '--merchant',
      merchant.merchantId,
      '--action',
      'api_key.*',
    );
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(` aud_[0-9a-f]{44}  api_key\\.revoked  ${created.id}  by system:cli`),
    );
    expect(lines[1]).toMatch(/api_key\.created/);
    const json = JSON.parse(
      (await kassa('audit-log', 'list', '--merchant', merchant.merchantId, '--limit', '1', '--json')).stdout,
    ) as Json[];
    expect(json).toHaveLength(1);
    expect(json[0]!.action).toBe('api_key.revoked');
    const global = await kassa('audit-log', 'list');
    expect(global.stdout).toMatch(/signing_key\.rotated/);
  }, 180_000);
});
