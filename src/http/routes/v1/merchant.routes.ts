import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { zLocale } from '../../../modules/checkouts/checkout.locale.ts';
import { checkoutServiceDeps } from '../../../modules/checkouts/checkout.service.ts';
import {
  zCallbacksInput,
  zCaptureMode,
  zSessionLifetime,
} from '../../../modules/checkouts/checkout.schemas.ts';
import { updateMerchantSettingsFromRequest } from '../../../modules/merchants/merchant-settings.service.ts';
import { findMerchantById } from '../../../modules/merchants/merchant.repository.ts';
import type { Merchant } from '../../../modules/merchants/merchant.types.ts';
import type { Services } from '../../../services.ts';
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
    default_capture_mode: z
      .enum(['automatic', 'manual'])
      .describe('The capture_mode of checkouts and payment links that do not set one'),
    default_session_lifetime_seconds: z.number().int(),
    card_data_permitted: z
      .boolean()
      .describe(
        'Whether this merchant may send raw card data to POST /v1/payments; set by the operator (kassa merchant update ID --card-data on|off)',
      ),
    api_version: z
      .string()
      .nullable()
      .describe(
        'The Kassa-Version this merchant is pinned to: the one its first authenticated request used (null before it)',
      ),
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
      Object.entries(merchant.defaultCallbacks).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    ),
    default_capture_mode: merchant.defaultCapture,
    default_session_lifetime_seconds: merchant.defaultSessionLifetimeSeconds,
    card_data_permitted: merchant.cardDataPermitted,
    api_version: merchant.apiVersion,
    version: merchant.version,
    created_at: merchant.createdAt.toISOString(),
    updated_at: merchant.updatedAt.toISOString(),
  };
}

/**
 * PATCH body: JSON merge-patch semantics — omitted fields are kept, null clears `branding.logo_url` /
 * `branding.primary_color`, and `default_callbacks` is merged per callback (null removes one).
 */
export const ZUpdateMerchant = z
  .strictObject({
    display_name: z
      .string()
      .max(100)
      .regex(/\S/, { error: 'must not be empty or blank' })
      .optional()
      .describe('Shown to shoppers on the hosted page, 1–100 characters'),
    branding: z
      .strictObject({
        logo_url: z.string().max(2048).nullable().optional().describe('https:// (http:// in test mode)'),
        primary_color: z
          .string()
          .regex(/^#[0-9a-fA-F]{6}$/, { error: 'must be a colour in the form #rrggbb, e.g. "#0055ff"' })
          .nullable()
          .optional(),
      })
      .optional(),
    default_locale: zLocale.optional(),
    default_callbacks: zCallbacksInput.optional(),
    default_capture_mode: zCaptureMode.optional(),
    default_session_lifetime_seconds: zSessionLifetime.optional(),
  })
  .meta({ id: 'UpdateMerchant' });

export function registerMerchantRoutes(
  app: KassaApp,
  deps: Pick<Services, 'db' | 'config' | 'clock' | 'keyring' | 'merchants'>,
) {
  const { egressPolicy } = checkoutServiceDeps(deps);

  app.get(
    '/v1/merchant',
    {
      config: { auth: 'merchant', scope: 'merchant' },
      schema: { tags: ['Merchant'], summary: "The caller's merchant", response: { 200: ZMerchant } },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const merchant = await findMerchantById(deps.db, principal.merchantId);
      if (!merchant) throw notFoundError('merchant', principal.merchantId);
      return presentMerchant(merchant, principal.livemode);
    },
  );

  app.patch(
    '/v1/merchant',
    {
      config: { auth: 'merchant', scope: 'merchant' },
      schema: {
        tags: ['Merchant'],
        summary: "Change the caller's merchant settings: display name, branding and checkout defaults",
        body: ZUpdateMerchant,
        response: { 200: ZMerchant },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const merchant = await deps.db.transaction((tx) =>
        updateMerchantSettingsFromRequest(tx, { egressPolicy }, principal, request.body),
      );
      deps.merchants.forget(principal.merchantId);
      return presentMerchant(merchant, principal.livemode);
    },
  );
}
