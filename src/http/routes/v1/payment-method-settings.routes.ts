import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { zCountryCode, zCurrencyCode, zMinorAmount } from '../../../lib/money.ts';
import {
  DEVICES,
  PAYMENT_METHOD_TYPES,
  type PaymentMethodType,
} from '../../../modules/payment-methods/eligibility.ts';
import {
  ACCEPTABLE_CARD_BRANDS,
  getPaymentMethodSettings,
  presentPaymentMethodSetting,
  updatePaymentMethodSetting,
} from '../../../modules/payment-methods/payment-method-settings.service.ts';
import type { Services } from '../../../services.ts';
import { markDeprecated } from '../../deprecation.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { wholeList, ZPage } from '../../pagination.ts';

/**
 * Payment-method settings per merchant and mode (docs/checkouts.md, AltaPay's terminal settings). A new merchant
 * starts with card everywhere, invoice in a few Nordic / DACH countries within an amount range, wallet on
 * mobile; PATCH changes one method (omitted fields keep their value, null removes a restriction; PUT is its
 * deprecated alias).
 */

const unique = <T>(items: T[]) => new Set(items).size === items.length;
const noDuplicates = { error: 'must not list a value twice', params: { code: 'duplicate' } };

const ZPaymentMethodSetting = z
  .object({
    id: z.enum(PAYMENT_METHOD_TYPES).describe('The method: one setting per method and mode'),
    object: z.literal('payment_method_setting'),
    method: z.enum(PAYMENT_METHOD_TYPES),
    livemode: z.boolean(),
    enabled: z.boolean(),
    countries: z.array(z.string()).nullable().describe('ISO 3166-1 alpha-2 codes; null = every country'),
    currencies: z.array(z.string()).nullable().describe('ISO 4217 codes; null = every currency'),
    min_amount: z
      .number()
      .int()
      .nullable()
      .describe("Inclusive, minor units of the checkout's currency; null = none"),
    max_amount: z
      .number()
      .int()
      .nullable()
      .describe("Inclusive, minor units of the checkout's currency; null = none"),
    devices: z.array(z.enum(DEVICES)).nullable().describe('null = every device'),
    display_order: z.number().int().describe('Lower comes first'),
    card_brands: z.array(z.string()).nullable().describe('Card only: accepted brands'),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'PaymentMethodSetting' });

export const ZUpdatePaymentMethodSetting = z
  .strictObject({
    enabled: z.boolean().optional(),
    countries: z.array(zCountryCode).min(1).max(300).refine(unique, noDuplicates).nullable().optional(),
    currencies: z.array(zCurrencyCode).min(1).max(200).refine(unique, noDuplicates).nullable().optional(),
    min_amount: zMinorAmount.nullable().optional(),
    max_amount: zMinorAmount.nullable().optional(),
    devices: z.array(z.enum(DEVICES)).min(1).refine(unique, noDuplicates).nullable().optional(),
    display_order: z.number().int().min(0).max(1000).optional(),
    card_brands: z.array(z.enum(ACCEPTABLE_CARD_BRANDS)).min(1).refine(unique, noDuplicates).optional(),
  })
  .meta({ id: 'UpdatePaymentMethodSetting' });

export function registerPaymentMethodSettingsRoutes(app: KassaApp, services: Services) {
  app.get(
    '/v1/payment-method-settings',
    {
      config: { auth: 'merchant', scope: 'merchant' },
      schema: {
        tags: ['Payment methods'],
        summary: "The merchant's payment-method settings in the caller's mode",
        description:
          'In display order; never paginated (one setting per payment-method type), so has_more is always false.',
        response: { 200: ZPage(ZPaymentMethodSetting) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const settings = await getPaymentMethodSettings(services.db, services, principal);
      return wholeList(settings.map(presentPaymentMethodSetting));
    },
  );

  const updateSetting = async (
    request: FastifyRequest<{
      Params: { method: string };
      Body: z.infer<typeof ZUpdatePaymentMethodSetting>;
    }>,
  ) => {
    const principal = requireMerchant(request);
    const method = request.params.method;
    if (!(PAYMENT_METHOD_TYPES as readonly string[]).includes(method)) {
      throw notFoundError('payment method', method);
    }
    const updated = await services.db.transaction((tx) =>
      updatePaymentMethodSetting(tx, services, principal, method as PaymentMethodType, request.body),
    );
    services.paymentMethodSettings.forget(principal); // applies at once in this process
    return presentPaymentMethodSetting(updated);
  };
  const params = z.object({ method: z.string().max(50).describe(PAYMENT_METHOD_TYPES.join(' | ')) });
  const updateDescription =
    'A JSON merge patch: omitted fields keep their value, null removes a restriction, lists are replaced whole.';

  app.patch(
    '/v1/payment-method-settings/:method',
    {
      config: { auth: 'merchant', scope: 'merchant' },
      schema: {
        tags: ['Payment methods'],
        summary: 'Change the settings of one payment method',
        description: updateDescription,
        params,
        body: ZUpdatePaymentMethodSetting,
        response: { 200: ZPaymentMethodSetting },
      },
    },
    updateSetting,
  );

  // The first version's name for the same merge (docs/api-conventions.md §15: PUT replaces a part whole, and
  // this never did); kept so integrations written before it keep working.
  app.put(
    '/v1/payment-method-settings/:method',
    {
      config: { auth: 'merchant', scope: 'merchant' },
      schema: {
        tags: ['Payment methods'],
        summary: 'Change the settings of one payment method (deprecated: use PATCH)',
        description: `Deprecated alias of PATCH /v1/payment-method-settings/{method}, answered with a \`Deprecation\` header. ${updateDescription}`,
        deprecated: true,
        params,
        body: ZUpdatePaymentMethodSetting,
        response: { 200: ZPaymentMethodSetting },
      },
    },
    async (request, reply) => {
      markDeprecated(reply);
      return updateSetting(request);
    },
  );
}
