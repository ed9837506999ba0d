import { z } from 'zod';
import type { Database } from '../../../db/client.ts';
import { notFoundError } from '../../../lib/errors.ts';
import { findMerchantById } from '../../../modules/merchants/merchant.repository.ts';
import type { Merchant } from '../../../modules/merchants/merchant.types.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';

export const ZMerchant = z
  .object({
    id: z.string(),
    object: z.literal('merchant'),
    name: z.string(),
    livemode: z.boolean().describe('The mode of the credentials used for this request'),
    display_name: z.string().nullable(),
    branding: z.object({ logo_url: z.string().nullable(), primary_color: z.string().nullable() }),
    default_locale: z.string(),
    default_callbacks: z.record(z.string(), z.string()),
    default_capture: z.enum(['automatic', 'manual']),
    default_session_lifetime_seconds: z.number().int(),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Merchant' });

export function presentMerchant(merchant: Merchant, livemode: boolean): z.infer<typeof ZMerchant> {
  return {
    id: merchant.id,
    object: 'merchant',
    name: merchant.name,
    livemode,
    display_name: merchant.displayName,
    branding: { logo_url: merchant.logoUrl, primary_color: merchant.primaryColor },
    default_locale: merchant.defaultLocale,
    default_callbacks: Object.fromEntries(
      Object.entries(merchant.defaultCallbacks).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    ),
    default_capture: merchant.defaultCapture,
    default_session_lifetime_seconds: merchant.defaultSessionLifetimeSeconds,
    version: merchant.version,
    created_at: merchant.createdAt.toISOString(),
    updated_at: merchant.updatedAt.toISOString(),
  };
}

export function registerMerchantRoutes(app: KassaApp, deps: { db: Database }) {
  app.get(
    '/v1/merchant',
    {
      config: { auth: 'merchant' },
      schema: { tags: ['Merchant'], summary: "The caller's merchant", response: { 200: ZMerchant } },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const merchant = await findMerchantById(deps.db, principal.merchantId);
      if (!merchant) throw notFoundError('merchant', principal.merchantId);
      return presentMerchant(merchant, principal.livemode);
    },
  );
}
