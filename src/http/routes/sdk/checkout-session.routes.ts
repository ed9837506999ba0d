import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { getCheckoutWithOrder } from '../../../modules/checkouts/checkout.service.ts';
import { CHECKOUT_STATUSES } from '../../../modules/checkouts/checkout.states.ts';
import { checkoutRedirectUrl } from '../../../modules/checkouts/checkout.tokens.ts';
import type { CheckoutWithOrder } from '../../../modules/checkouts/checkout.types.ts';
import { findMerchantById } from '../../../modules/merchants/merchant.repository.ts';
import type { Services } from '../../../services.ts';
import { resolvePageLocale } from '../../pages/page-locale.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';

/**
 * `GET /v1/checkouts/{id}/session`: what the browser SDK shows before it sends the shopper to Kassa's secure
 * page. Callable cross-origin with the checkout's client token (`sdk-cors.ts`).
 */

const ZBrowserSession = z
  .object({
    id: z.string().describe('The checkout (chk_…)'),
    object: z.literal('checkout_session'),
    checkout_id: z.string().describe('The same as `id` (a documented alias)'),
    livemode: z.boolean(),
    status: z.enum(CHECKOUT_STATUSES),
    locale: z.string().describe('The language the hosted page will use'),
    created_at: z.string(),
    expires_at: z.string(),
    checkout_redirect_url: z.string().describe("Kassa's secure payment page for this session"),
    merchant: z.object({ display_name: z.string() }),
    order: z.object({
      merchant_order_id: z.string(),
      currency: z.string(),
      country_code: z.string(),
      subtotal_amount: z.number().int(),
      discounts: z.array(z.object({ amount: z.number().int(), description: z.string().optional() })),
      taxes: z.array(z.object({ amount: z.number().int(), description: z.string().optional() })),
      shipping_amount: z.number().int(),
      total_amount: z.number().int(),
      products: z.array(
        z.object({ name: z.string(), quantity: z.number().int(), unit_price: z.number().int() }),
      ),
    }),
  })
  .meta({ id: 'CheckoutSessionSummary' });

export function registerCheckoutSessionRoute(
  app: KassaApp,
  services: Pick<Services, 'db' | 'config' | 'keyring'>,
) {
  app.get(
    '/v1/checkouts/:id/session',
    {
      config: { auth: 'merchant_or_client_token', scope: 'checkouts' },
      schema: {
        tags: ['Checkouts'],
        summary:
          'What the browser SDK needs to show a checkout: order summary, amount and the secure page URL',
        description:
          "The checkout's client_token (ct_…) or merchant credentials. Callable cross-origin with a client token. " +
          'Card data is never entered on the merchant page: the SDK sends the shopper to checkout_redirect_url.',
        params: z.object({ id: z.string().max(100) }),
        response: { 200: ZBrowserSession },
      },
    },
    async (request) => {
      const { id } = request.params;
      const token = request.clientToken;
      // A client token opens its own checkout only; any other id answers like a missing one.
      if (token && token.checkoutId !== id) throw notFoundError('checkout', id);
      const scope = token ?? requireMerchant(request);
      const session = await getCheckoutWithOrder(
        services.db,
        { merchantId: scope.merchantId, livemode: scope.livemode },
        id,
      );
      const merchant = await findMerchantById(services.db, scope.merchantId);
      // A checkout created without a locale: the language its page will use for this browser (the SDK's
      // request carries the shopper's Accept-Language), as the hosted page resolves it.
      const acceptLanguage = request.headers['accept-language'];
      const locale = session.checkout.localeIsDefault
        ? resolvePageLocale({
            locale: null,
            acceptLanguage: typeof acceptLanguage === 'string' ? acceptLanguage : undefined,
            merchantDefault: merchant?.defaultLocale,
          }).locale
        : session.checkout.locale;
      return presentBrowserSession(session, {
        locale,
        merchantName: merchant?.displayName ?? merchant?.name ?? '',
        redirectUrl: checkoutRedirectUrl(services.config.publicUrl, services.keyring, id),
      });
    },
  );
}

function presentBrowserSession(
  { checkout, order }: CheckoutWithOrder,
  extra: { locale: string; merchantName: string; redirectUrl: string },
): z.infer<typeof ZBrowserSession> {
  return {
    id: checkout.id,
    object: 'checkout_session',
    checkout_id: checkout.id,
    livemode: checkout.livemode,
    status: checkout.status,
    locale: extra.locale,
    created_at: checkout.createdAt.toISOString(),
    expires_at: checkout.expiresAt.toISOString(),
    checkout_redirect_url: extra.redirectUrl,
    merchant: { display_name: extra.merchantName },
    order: {
      merchant_order_id: order.merchantOrderId,
      currency: order.currency,
      country_code: order.countryCode,
      subtotal_amount: order.subtotalAmount,
      discounts: order.discounts,
      taxes: order.taxes,
      shipping_amount: order.shippingAmount,
      total_amount: order.totalAmount,
      products: order.products.map((product) => ({
        name: product.name,
        quantity: product.quantity,
        unit_price: product.unit_price,
      })),
    },
  };
}
