import type { Keyring } from '../../lib/keyring.ts';
import type { PaymentLinkResource } from './payment-link.schemas.ts';
import { paymentLinkQrSvgUrl, paymentLinkUrl } from './payment-link.tokens.ts';
import type { PaymentLink } from './payment-link.types.ts';

export type PaymentLinkPresentationDeps = { keyring: Keyring; publicUrl: string };

/** The API (and event payload) form of a link; `qrCode` (a PNG data URL) only where the caller made one. */
export function presentPaymentLink(
  link: PaymentLink,
  deps: PaymentLinkPresentationDeps,
  qrCode?: string,
): PaymentLinkResource {
  return {
    id: link.id,
    object: 'payment_link',
    payment_link_id: link.id,
    livemode: link.livemode,
    status: link.status,
    url: paymentLinkUrl(deps.publicUrl, deps.keyring, link.id),
    ...(qrCode === undefined ? {} : { qr_code: qrCode }),
    qr_svg_url: paymentLinkQrSvgUrl(deps.publicUrl, deps.keyring, link.id),
    usage: link.usage,
    max_completions: link.maxCompletions,
    completions: link.completions,
    activation_window_seconds: link.activationWindowSeconds,
    expires_at: link.expiresAt.toISOString(),
    first_opened_at: link.firstOpenedAt?.toISOString() ?? null,
    completable_until: link.completableUntil?.toISOString() ?? null,
    landing_url: link.landingUrl,
    completed_redirect_url: link.completedRedirectUrl,
    canceled_redirect_url: link.canceledRedirectUrl,
    locale: link.locale,
    capture_mode: link.capture,
    payment_methods: link.paymentMethods,
    metadata: link.metadata,
    order: link.order,
    created_at: link.createdAt.toISOString(),
    updated_at: link.updatedAt.toISOString(),
    completed_at: link.completedAt?.toISOString() ?? null,
    expired_at: link.expiredAt?.toISOString() ?? null,
    deactivated_at: link.deactivatedAt?.toISOString() ?? null,
    version: link.version,
  };
}
