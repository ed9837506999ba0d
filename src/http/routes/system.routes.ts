import { z } from 'zod';
import type { Database } from '../../db/client.ts';
import { AppError } from '../../lib/errors.ts';
import type { SigningKeyStore } from '../../modules/auth/signing-keys.ts';
import type { KassaApp } from '../http.types.ts';

/** Liveness, readiness (the database answers) and the public keys that verify access tokens. */
export function registerSystemRoutes(app: KassaApp, deps: { db: Database; signingKeys: SigningKeyStore }) {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['System'],
        summary: 'Liveness: the process serves HTTP',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['System'],
        summary: 'Readiness: the database answers',
        response: { 200: z.object({ status: z.literal('ready'), database: z.literal('ok') }) },
      },
    },
    async () => {
      try {
        await deps.db.query('SELECT 1');
      } catch (error) {
        throw new AppError('service_unavailable', 'The database is not reachable', {
          cause: error,
          headers: { 'retry-after': '1' },
        });
      }
      return { status: 'ready' as const, database: 'ok' as const };
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['Authentication'],
        summary: 'Public keys that verify Kassa access tokens (RFC 7517)',
        response: { 200: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return { keys: await deps.signingKeys.publicJwks() };
    },
  );
}
