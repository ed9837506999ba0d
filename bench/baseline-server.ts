import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { importSPKI, jwtVerify } from 'jose';
import pg from 'pg';
import { registerFloorRoutes } from './floor-routes.ts';

/**
 * The benchmark's baseline: the bare minimum of create-checkout, and nothing else — verify an RS256 access
 * token with jose (key imported once as a CryptoKey, the same verify options as Kassa's), then ONE
 * transaction with two inserts (the session as jsonb, one outbox row), then a JSON answer. No validation,
 * no idempotency record, no logging. It runs as its own process, like the gateway, over the same database
 * and the same pool size, in two tables of its own. What it reaches is the physical ceiling of this
 * machine for the route's shape; the real route is reported as a ratio of it.
 *
 * Started by bench/run.ts with: BASELINE_DATABASE_URL, BASELINE_PORT, BASELINE_POOL_MAX,
 * BASELINE_PUBLIC_KEY_PEM (SPKI), BASELINE_ISSUER, BASELINE_AUDIENCE. Prints `listening <port>` when ready.
 *
 * With BASELINE_KASSA_DATA_DIR and BASELINE_KASSA_PUBLIC_URL (the gateway's) it also serves the floors
 * (bench/floor-routes.ts): the least a real route's contract needs, measured beside the baseline. The
 * baseline's own route is the same either way.
 */

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const TABLES_SQL = `
  CREATE TABLE IF NOT EXISTS bench_baseline_sessions (
    id text PRIMARY KEY, merchant_id text NOT NULL, livemode boolean NOT NULL, data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS bench_baseline_outbox (
    id text PRIMARY KEY, session_id text NOT NULL, type text NOT NULL, data jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());`;

async function main() {
  const issuer = env('BASELINE_ISSUER');
  const audience = env('BASELINE_AUDIENCE');
  const key = await importSPKI(env('BASELINE_PUBLIC_KEY_PEM'), 'RS256');
  const pool = new pg.Pool({
    connectionString: env('BASELINE_DATABASE_URL'),
    max: Number(env('BASELINE_POOL_MAX')),
  });
  await pool.query(TABLES_SQL);

  /** The caller of a `Bearer` access token, or undefined when it is missing or does not verify. */
  async function verifyToken(authorization: string | undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return undefined;
    try {
      const { payload } = await jwtVerify(match[1]!, key, {
        algorithms: ['RS256'],
        typ: 'at+jwt',
        issuer,
        audience,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
        clockTolerance: 5,
      });
      return {
        merchantId: String(payload.merchant_id),
        livemode: payload.livemode === true,
        clientId: String(payload.client_id),
      };
    } catch {
      return undefined;
    }
  }

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.post('/v1/checkouts', async (request, reply) => {
    if (!request.headers.authorization) return reply.code(401).send({ error: 'authentication_required' });
    const caller = await verifyToken(request.headers.authorization);
    if (!caller) return reply.code(401).send({ error: 'invalid_token' });
    const { merchantId, livemode } = caller;
    const id = `chk_${randomBytes(16).toString('hex')}`;
    const session = {
      id,
      object: 'checkout',
      livemode,
      merchant_id: merchantId,
      ...(request.body as object),
    };
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        'INSERT INTO bench_baseline_sessions (id, merchant_id, livemode, data) VALUES ($1, $2, $3, $4)',
        [id, merchantId, livemode, JSON.stringify(session)],
      );
      await client.query(
        'INSERT INTO bench_baseline_outbox (id, session_id, type, data) VALUES ($1, $2, $3, $4)',
        [
          `evt_${randomBytes(16).toString('hex')}`,
          id,
          'checkout.created',
          JSON.stringify({ id, merchant_id: merchantId }),
        ],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    return reply.code(201).send({ ...session, created_at: new Date().toISOString() });
  });

  const kassaDataDir = process.env.BASELINE_KASSA_DATA_DIR;
  const kassaPublicUrl = process.env.BASELINE_KASSA_PUBLIC_URL;
  if (kassaDataDir && kassaPublicUrl)
    registerFloorRoutes(app, { pool, kassaDataDir, publicUrl: kassaPublicUrl, verifyToken });

  const address = await app.listen({ port: Number(env('BASELINE_PORT')), host: '127.0.0.1' });
  console.log(`listening ${new URL(address).port}`);
  const stop = () => {
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error('baseline server failed:', error);
  process.exit(1);
});
