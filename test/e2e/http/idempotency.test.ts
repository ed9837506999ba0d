import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { buildApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { findFreePort } from '../../../src/db/embedded.ts';
import { fingerprintRequest, respondIdempotently } from '../../../src/http/idempotency.ts';
import type { KassaApp } from '../../../src/http/http.types.ts';
import { requireMerchant } from '../../../src/http/http.types.ts';
import { AppError } from '../../../src/lib/errors.ts';
import { createKeyring } from '../../../src/lib/keyring.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { createServices } from '../../../src/services.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';
import { expectProblem } from '../../fixtures/test-app.ts';

/**
 * The idempotency mechanism itself, on a route whose effect is a row in a table of this test: every effect
 * is countable, so "exactly once" is measured, not assumed. Real PostgreSQL, real parallel HTTP requests.
 */
describe('Idempotency-Key on POST', () => {
  let database: TestDatabase;
  let app: KassaApp;
  let baseUrl: string;
  let apiKey: string;
  let merchantAId: string;
  let otherApiKey: string;
  let liveApiKey: string;
  const keyring = createKeyring(randomBytes(32));

  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 30 });
    await database.db.query(
      'CREATE TABLE test_effects (id serial PRIMARY KEY, merchant_id text, label text)',
    );
    const port = await findFreePort();
    const config = loadConfig({
      KASSA_ENV: 'test',
      PORT: String(port),
      KASSA_PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    const services = await createServices({ config, db: database.db, keyring });
    app = await buildApp(services, { logStream: false });
    app.post(
      '/v1/test-effects',
      {
        config: { auth: 'merchant', scope: 'payments', idempotency: 'transactional' },
        schema: {
          body: z.object({
            label: z.string().min(1),
            fail: z.enum(['business', 'crash', 'validation', 'first_statement']).optional(),
            slow_ms: z.number().int().max(2000).optional(),
            commit_twin_first: z.boolean().optional(),
          }),
        },
      },
      (request, reply) =>
        respondIdempotently(request, reply, database.db, 201, async (tx) => {
          // Refusals before any statement (the effect's own checks) and in its first statement, which carries
          // the key's lookup.
          if (request.body.fail === 'validation')
            throw new AppError('invalid_request', 'refused before any statement');
          if (request.body.fail === 'first_statement') await tx.query('SELECT 1 / 0');
          const { rows } = await tx.query<{ id: number }>(
            'INSERT INTO test_effects (merchant_id, label) VALUES ($1, $2) RETURNING id',
            [requireMerchant(request).merchantId, request.body.label],
          );
          if (request.body.slow_ms) await new Promise((resolve) => setTimeout(resolve, request.body.slow_ms));
          if (request.body.commit_twin_first) {
            // A twin request that committed the key's record after this one's first read (the window between
            // the read's snapshot and its advisory lock): written on another connection, committed now.
            const merchant = requireMerchant(request);
            await database.db.query(
              `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
                 request_fingerprint, state, response_status, response_body, completed_at)
               VALUES ($1, $2, $3, 'POST', '/v1/test-effects', $4, 'completed', 201, $5, now())`,
              [
                merchant.merchantId,
                merchant.livemode,
                request.headers['idempotency-key'],
                fingerprintRequest(request),
                request.server.idempotencyResponses.seal('{"twin":true}'),
              ],
            );
          }
          if (request.body.fail === 'business') throw new AppError('conflict', 'refused after the insert');
          if (request.body.fail === 'crash') throw new Error('unexpected failure after the insert');
          return { id: rows[0]!.id, label: request.body.label, at: Date.now() };
        }),
    );
    await app.listen({ port, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${port}`;
    const make = (name: string, livemode = false) =>
      database.db.transaction((tx) => createMerchantWithCredentials(tx, { name, livemode }));
    const merchantA = await make('A');
    apiKey = merchantA.credentials.apiKey;
    merchantAId = merchantA.merchant.id;
    otherApiKey = (await make('B')).credentials.apiKey;
    liveApiKey = (await make('A live', true)).credentials.apiKey;
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  const post = (body: unknown, key?: string, credential = apiKey) =>
    fetch(`${baseUrl}/v1/test-effects`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${credential}`,
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: JSON.stringify(body),
    });
  const countEffects = async (label: string) =>
    Number(
      (
        await database.db.query<{ n: string }>('SELECT count(*) AS n FROM test_effects WHERE label = $1', [
          label,
        ])
      ).rows[0]!.n,
    );
  const asInjectResponse = async (response: Response) => ({
    statusCode: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body: await response.text(),
  });

  it('replays the stored response for the same key and body, without a second effect', async () => {
    const first = await post({ label: 'replay' }, 'key-replay');
    const firstBody = await first.text();
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const second = await post({ label: 'replay' }, 'key-replay');
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.text()).toBe(firstBody);
    expect(await countEffects('replay')).toBe(1);
    // Stored responses may hold secrets shown once: they are kept encrypted, never as readable JSON.
    const stored = await database.db.query<{ response_body: string }>(
      `SELECT response_body FROM idempotency_keys WHERE idempotency_key = 'key-replay'`,
    );
    expect(stored.rows[0]!.response_body).not.toContain('replay');
    expect(() => JSON.parse(stored.rows[0]!.response_body)).toThrow();
  });

  it('treats key order and white space in the body as the same request', async () => {
    await post({ label: 'order', slow_ms: 1 }, 'key-order');
    const response = await fetch(`${baseUrl}/v1/test-effects`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        'idempotency-key': 'key-order',
      },
      body: '{ "slow_ms": 1,\n  "label": "order" }',
    });
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(await countEffects('order')).toBe(1);
  });

  it('answers 422 idempotency_key_reused for the same key with another body', async () => {
    await post({ label: 'changed-1' }, 'key-changed');
    const response = await post({ label: 'changed-2' }, 'key-changed');
    expect(response.status).toBe(422);
    expect(expectProblem(await asInjectResponse(response)).code).toBe('idempotency_key_reused');
    expect(await countEffects('changed-2')).toBe(0);
  });

  it('answers 409 idempotency_key_in_use while the first request is still running', async () => {
    const slow = post({ label: 'inflight', slow_ms: 600 }, 'key-inflight');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const concurrent = await post({ label: 'inflight', slow_ms: 600 }, 'key-inflight');
    expect(concurrent.status).toBe(409);
    expect(concurrent.headers.get('retry-after')).toBe('1');
    expect(expectProblem(await asInjectResponse(concurrent)).code).toBe('idempotency_key_in_use');
    expect((await slow).status).toBe(201);
    expect(await countEffects('inflight')).toBe(1);
  });

  it('does not store validation failures: the same key with a corrected body succeeds', async () => {
    const invalid = await post({ label: '' }, 'key-validation');
    expect(invalid.status).toBe(422);
    expect(expectProblem(await asInjectResponse(invalid)).errors?.[0]?.pointer).toBe('/label');
    const valid = await post({ label: 'validated' }, 'key-validation');
    expect(valid.status).toBe(201);
    expect(valid.headers.get('idempotent-replayed')).toBeNull();
  });

  it('stores nothing when the effect fails: the row and the key roll back together', async () => {
    for (const fail of ['business', 'crash'] as const) {
      const label = `failing-${fail}`;
      const response = await post({ label, fail }, `key-${label}`);
      expect(response.status).toBe(fail === 'business' ? 409 : 500);
      expectProblem(await asInjectResponse(response));
      expect(await countEffects(label)).toBe(0);
      const stored = await database.db.query('SELECT 1 FROM idempotency_keys WHERE idempotency_key = $1', [
        `key-${label}`,
      ]);
      expect(stored.rowCount).toBe(0);
    }
  });

  it("replays a twin's record that appeared after the key was read, and rolls its own effect back", async () => {
    const response = await post({ label: 'raced', commit_twin_first: true }, 'k-raced');
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(await response.json()).toEqual({ twin: true });
    expect(await countEffects('raced')).toBe(0);
  });

  /** Stores a completed record for `key` as if an earlier request with `body` (or another body) had answered. */
  const storeRecord = async (key: string, body: unknown, answer: unknown) => {
    const fingerprint = fingerprintRequest({
      method: 'POST',
      url: '/v1/test-effects',
      body,
    } as FastifyRequest);
    await database.db.query(
      `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
         request_fingerprint, state, response_status, response_body, completed_at)
       VALUES ($1, false, $2, 'POST', '/v1/test-effects', $3, 'completed', 201, $4, now())`,
      [merchantAId, key, fingerprint, app.idempotencyResponses.seal(JSON.stringify(answer))],
    );
  };

  it("the key's verdict wins over the effect's failure: replay, 422 for another body, never the effect's error", async () => {
    // The key's lookup travels with the effect's first statement; an effect that fails before any statement,
    // in that statement, or after it must still get the key's answer, and leave nothing behind.
    for (const fail of ['validation', 'first_statement', 'business', 'crash'] as const) {
      const label = `verdict-${fail}`;
      await storeRecord(`k-${label}`, { label, fail }, { stored: fail });
      const replayed = await post({ label, fail }, `k-${label}`);
      expect(replayed.status).toBe(201);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      expect(await replayed.json()).toEqual({ stored: fail });

      await storeRecord(`k-other-${label}`, { label: 'another request' }, { stored: 'other' });
      const reused = await post({ label, fail }, `k-other-${label}`);
      expect(reused.status).toBe(422);
      expect((await reused.json()).code).toBe('idempotency_key_reused');
      expect(await countEffects(label)).toBe(0);
    }
  });

  it("answers with the effect's own error when the key is free, whichever statement failed", async () => {
    const expected = { validation: 400, first_statement: 500, business: 409, crash: 500 } as const;
    for (const [fail, status] of Object.entries(expected)) {
      const label = `free-${fail}`;
      const response = await post({ label, fail }, `k-${label}`);
      expect(response.status).toBe(status);
      expectProblem(await asInjectResponse(response));
      expect(await countEffects(label)).toBe(0);
      const stored = await database.db.query('SELECT 1 FROM idempotency_keys WHERE idempotency_key = $1', [
        `k-${label}`,
      ]);
      expect(stored.rowCount).toBe(0);
    }
  });

  it('produces exactly one effect from 20 parallel identical requests', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post({ label: 'parallel', slow_ms: 50 }, 'key-parallel')),
    );
    const statuses = responses.map((response) => response.status);
    expect(await countEffects('parallel')).toBe(1);
    // Each one either made the effect, replayed it, or was told to retry — never a second effect.
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    expect(statuses.filter((status) => status === 201).length).toBeGreaterThanOrEqual(1);
    const retried = await post({ label: 'parallel', slow_ms: 50 }, 'key-parallel');
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(await countEffects('parallel')).toBe(1);
  });

  it('scopes keys to the merchant and the mode', async () => {
    await post({ label: 'scoped' }, 'key-scoped');
    const otherMerchant = await post({ label: 'scoped' }, 'key-scoped', otherApiKey);
    const liveMode = await post({ label: 'scoped' }, 'key-scoped', liveApiKey);
    expect(otherMerchant.headers.get('idempotent-replayed')).toBeNull();
    expect(liveMode.headers.get('idempotent-replayed')).toBeNull();
    expect(await countEffects('scoped')).toBe(3);
  });

  it('refuses malformed keys', async () => {
    for (const key of ['x'.repeat(256), 'with space', 'tab\there']) {
      const response = await fetch(`${baseUrl}/v1/test-effects`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({ label: 'bad-key' }),
      }).catch(() => undefined);
      if (!response) continue; // fetch itself refuses some header values; nothing reached the server
      expect(response.status).toBe(400);
      expect(expectProblem(await asInjectResponse(response)).code).toBe('idempotency_key_invalid');
    }
    expect(await countEffects('bad-key')).toBe(0);
  });

  it('refuses to start an app whose POST route does not declare its idempotency', async () => {
    const config = loadConfig({ KASSA_ENV: 'test' });
    const services = await createServices({ config, db: database.db, keyring });
    const other = await buildApp(services, { logStream: false });
    expect(() => other.post('/v1/forgetful', async () => ({}))).toThrow(
      /does not declare config.idempotency/,
    );
    await other.close();
  });

  it('explains a changed master key instead of failing obscurely', async () => {
    const config = loadConfig({ KASSA_ENV: 'test' });
    await expect(
      createServices({ config, db: database.db, keyring: createKeyring(randomBytes(32)) }),
    ).rejects.toThrow(/cannot be decrypted with this master key/);
  });
});
