import { z } from 'zod';
import {
  getSigningSecret,
  rollSigningSecret,
  type SigningSecret,
} from '../../../modules/merchants/signing-secret.service.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { idempotencyHeader, respondIdempotently } from '../../idempotency.ts';
import { rollOverlapSeconds, zRollBody } from './roll-body.ts';

/**
 * The secret a merchant verifies signed return URLs with (docs/redirects.md). One per mode, created on first
 * use (here or at the first redirect). Served with `Cache-Control: no-store`.
 */

const ZSigningSecret = z
  .object({
    id: z.string().describe('ss_…: a new id with every roll'),
    object: z.literal('signing_secret'),
    livemode: z.boolean(),
    secret: z.string().describe('kss_…: the HMAC-SHA256 key of the `signature` parameter on return URLs'),
    algorithm: z.literal('HMAC-SHA256'),
    signed_payload: z.literal('{checkout_id}.{order_id}.{status}.{timestamp}'),
    created_at: z.string(),
    previous_secret_expires_at: z
      .string()
      .nullable()
      .describe(
        'After a roll: until then return URLs carry `signature` made with the previous secret and `next_signature` made with this one',
      ),
  })
  .meta({ id: 'SigningSecret' });

function presentSigningSecret(signing: SigningSecret, livemode: boolean): z.infer<typeof ZSigningSecret> {
  return {
    id: signing.id,
    object: 'signing_secret',
    livemode,
    secret: signing.secret,
    algorithm: 'HMAC-SHA256',
    signed_payload: '{checkout_id}.{order_id}.{status}.{timestamp}',
    created_at: signing.createdAt.toISOString(),
    previous_secret_expires_at: signing.previous?.expiresAt.toISOString() ?? null,
  };
}

export function registerMerchantSigningSecretRoutes(
  app: KassaApp,
  services: Pick<Services, 'db' | 'keyring' | 'clock'>,
) {
  app.get(
    '/v1/merchant/signing-secret',
    {
      config: { auth: 'merchant', scope: 'merchant' },
      schema: {
        tags: ['Merchant'],
        summary: "The secret that signs completed / canceled return URLs, for the caller's mode",
        response: { 200: ZSigningSecret },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const signing = await getSigningSecret(services.db, services.keyring, principal, services.clock.now());
      reply.header('cache-control', 'no-store');
      return presentSigningSecret(signing, principal.livemode);
    },
  );

  app.post(
    '/v1/merchant/signing-secret/roll',
    {
      config: { auth: 'merchant', scope: 'merchant', idempotency: 'transactional' },
      schema: {
        tags: ['Merchant'],
        summary: 'Roll the return-URL signing secret; both signatures are sent during the overlap',
        description:
          'Until `previous_secret_expires_at`, return URLs carry `signature` made with the previous secret (so ' +
          'verifiers that know only it keep working) and `next_signature` made with the new one (docs/redirects.md).',
        headers: idempotencyHeader(),
        body: zRollBody('signing'),
        response: { 200: ZSigningSecret },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const overlap = rollOverlapSeconds(request.body);
      reply.header('cache-control', 'no-store');
      return respondIdempotently(request, reply, services.db, 200, async (tx) =>
        presentSigningSecret(
          await rollSigningSecret(tx, services.keyring, principal, overlap, services.clock.now()),
          principal.livemode,
        ),
      );
    },
  );
}
