import { z } from 'zod';
import { getSigningSecret } from '../../../modules/merchants/signing-secret.service.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';

/**
 * The secret a merchant verifies signed return URLs with (docs/redirects.md). One per mode, created on first
 * use (here or at the first redirect). Served with `Cache-Control: no-store`.
 */

const ZSigningSecret = z
  .object({
    object: z.literal('signing_secret'),
    livemode: z.boolean(),
    secret: z.string().describe('kss_…: the HMAC-SHA256 key of the `signature` parameter on return URLs'),
    algorithm: z.literal('HMAC-SHA256'),
    signed_payload: z.literal('{checkout_id}.{order_id}.{status}.{timestamp}'),
    created_at: z.string(),
  })
  .meta({ id: 'SigningSecret' });

export function registerMerchantSigningSecretRoutes(
  app: KassaApp,
  services: Pick<Services, 'db' | 'keyring'>,
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
      const { secret, createdAt } = await getSigningSecret(services.db, services.keyring, principal);
      reply.header('cache-control', 'no-store');
      return {
        object: 'signing_secret' as const,
        livemode: principal.livemode,
        secret,
        algorithm: 'HMAC-SHA256' as const,
        signed_payload: '{checkout_id}.{order_id}.{status}.{timestamp}' as const,
        created_at: createdAt.toISOString(),
      };
    },
  );
}
