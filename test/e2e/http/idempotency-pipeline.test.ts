import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { respondIdempotentlyWithPipeline } from '../../../src/http/idempotency-pipeline.ts';
import type { KassaApp } from '../../../src/http/http.types.ts';
import { AppError } from '../../../src/lib/errors.ts';
import { createKeyring } from '../../../src/lib/keyring.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { createServices } from '../../../src/services.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';
import { expectProblem } from '../../fixtures/test-app.ts';

/**
 * The `pipeline` idempotency mode used by operations that call a processor between transactions: a lease
 * row marks the key in flight; a crashed holder's lease expires and a retry takes over; refusals free the key.
 * The "effect" here is a row keyed by the Idempotency-Key, as payments derive their id from it.
 */
describe('Idempotency-Key on processor-calling POSTs (pipeline mode)', () => {
  let database: TestDatabase;
  let app: KassaApp;
  let apiKey: string;
  const runs: string[] = [];
  let crashNextRun = false;

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.db.query(
      'CREATE TABLE pipeline_effects (key text PRIMARY KEY, runs int NOT NULL DEFAULT 1)',
    );
    const config = loadConfig({ KASSA_ENV: 'test' });
    const services = await createServices({
      config,
      db: database.db,
      keyring: createKeyring(randomBytes(32)),
    });
    app = await buildApp(services, { logStream: false });
    app.post(
      '/v1/test-pipeline',
      {
        config: { auth: 'merchant', scope: 'payments', idempotency: 'pipeline' },
        schema: { body: z.object({ label: z.string(), refuse: z.boolean().optional() }) },
      },
      (request, reply) =>
        respondIdempotentlyWithPipeline(request, reply, database.db, async ({ idempotencyKey }) => {
          runs.push(request.body.label);
          if (request.body.refuse) throw new AppError('conflict', 'refused before any effect');
          // Resumable effect: a retry with the same key continues the same row.
          await database.db.query(
            'INSERT INTO pipeline_effects (key) VALUES ($1) ON CONFLICT (key) DO UPDATE SET runs = pipeline_effects.runs + 1',
            [idempotencyKey ?? randomBytes(8).toString('hex')],
          );
          if (crashNextRun) {
            crashNextRun = false;
            throw new Error('the process died mid-way');
          }
          return { statusCode: 201, body: { label: request.body.label, at: Date.now() } };
        }),
    );
    await app.ready();
    apiKey = (
      await database.db.transaction((tx) => createMerchantWithCredentials(tx, { name: 'P', livemode: false }))
    ).credentials.apiKey;
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  const post = (body: object, key?: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/test-pipeline',
      headers: { authorization: `Bearer ${apiKey}`, ...(key ? { 'idempotency-key': key } : {}) },
      payload: body,
    });

  it('completes the record and replays the response', async () => {
    const first = await post({ label: 'a' }, 'p-replay');
    const second = await post({ label: 'a' }, 'p-replay');
    expect(first.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.body).toBe(first.body);
    expect(runs.filter((label) => label === 'a')).toHaveLength(1);
    expect(expectProblem(await post({ label: 'b' }, 'p-replay')).code).toBe('idempotency_key_reused');
  });

  it('frees the key when the operation refuses before any effect', async () => {
    expect((await post({ label: 'r', refuse: true }, 'p-refuse')).statusCode).toBe(409);
    const retry = await post({ label: 'r' }, 'p-refuse');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('blocks the key while a crashed holder’s lease runs, then lets a retry take over and resume', async () => {
    crashNextRun = true;
    const crashed = await post({ label: 'c' }, 'p-crash');
    expect(crashed.statusCode).toBe(500);
    const blocked = await post({ label: 'c' }, 'p-crash');
    expect(blocked.statusCode).toBe(409);
    expect(expectProblem(blocked).code).toBe('idempotency_key_in_use');

    // Time passes: the dead holder's lease expires.
    await database.db.query(
      `UPDATE idempotency_keys SET locked_until = now() - interval '1 second' WHERE idempotency_key = 'p-crash'`,
    );
    const resumed = await post({ label: 'c' }, 'p-crash');
    expect(resumed.statusCode).toBe(201);
    const { rows } = await database.db.query<{ runs: number }>(
      `SELECT runs FROM pipeline_effects WHERE key = 'p-crash'`,
    );
    expect(rows).toEqual([{ runs: 2 }]); // one effect row, resumed — not a second one
    expect((await post({ label: 'c' }, 'p-crash')).headers['idempotent-replayed']).toBe('true');
  });
});
