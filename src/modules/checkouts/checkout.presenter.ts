import type { Keyring } from '../../lib/keyring.ts';
import { presentOrder } from '../orders/order.presenter.ts';
import type { CheckoutResource } from './checkout.schemas.ts';
import { checkoutRedirectUrl } from './checkout.tokens.ts';
import type { CheckoutWithOrder } from './checkout.types.ts';

export type CheckoutPresentationDeps = { keyring: Keyring; publicUrl: string };

/**
 * The API (and event payload) form of a checkout. `clientToken` is given only when the checkout was just
 * created: the token is stored as a digest and cannot be shown again.
 */
export function presentCheckout(
  { checkout, order }: CheckoutWithOrder,
  deps: CheckoutPresentationDeps,
  clientToken?: string,
): CheckoutResource {
  const callbacks: CheckoutResource['callbacks'] = {};
  for (const [name, url] of Object.entries(checkout.callbacks)) {
    if (typeof url === 'string') callbacks[name as keyof CheckoutResource['callbacks']] = url;
  }
  return {
    id: checkout.id,
    object: 'checkout',
    checkout_id: checkout.id,
    livemode: checkout.livemode,
    status: checkout.status,
    checkout_redirect_url: checkoutRedirectUrl(deps.publicUrl, deps.keyring, checkout.id),
    ...(clientToken === undefined ? {} : { client_token: clientToken }),
    completed_redirect_url: checkout.completedRedirectUrl,
    canceled_redirect_url: checkout.canceledRedirectUrl,
    callbacks,
    allow_save_payment_methods: checkout.allowSavePaymentMethods,
    locale: checkout.localeIsDefault ? null : checkout.locale,
    capture_mode: checkout.capture,
    payment_methods: checkout.paymentMethods,
    metadata: checkout.metadata,
    payment_started: checkout.paymentStarted,
    payment_link_id: checkout.paymentLinkId,
    created_at: checkout.createdAt.toISOString(),
    placed_at: checkout.createdAt.toISOString(),
    expires_at: checkout.expiresAt.toISOString(),
    updated_at: checkout.updatedAt.toISOString(),
    completed_at: checkout.completedAt?.toISOString() ?? null,
    canceled_at: checkout.canceledAt?.toISOString() ?? null,
    cancellation_reason: checkout.cancellationReason,
    expired_at: checkout.expiredAt?.toISOString() ?? null,
    version: checkout.version,
    order: presentOrder(order),
  };
}

/**
 * `resource` (a `presentCheckout` without token) with the just-created session's client token, in the place
 * `presentCheckout(…, clientToken)` gives it — so creation presents the session once for its event and its
 * response alike.
 */
export function withClientToken(resource: CheckoutResource, clientToken: string): CheckoutResource {
  const answer: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(resource)) {
    answer[name] = value;
    if (name === 'checkout_redirect_url') answer.client_token = clientToken;
  }
  return answer as CheckoutResource;
}
