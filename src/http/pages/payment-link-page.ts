import type { IconName } from './page-icons.ts';
import { formatPageMoney, pageLocaleOf } from './page-layout.ts';
import type { MerchantBranding, MoneyView, PageShellModel } from './page-layout.ts';
import type { PaymentLinkPageKind } from './page-locale.ts';
import { renderOutcomePage } from './status-page.ts';

/**
 * What a payment link says when it cannot be paid (docs/payment-links.md: "an expired or used link says so clearly"). Same
 * layout as the checkout status pages; no form, only a link back to the store when there is one.
 */

export type { PaymentLinkPageKind } from './page-locale.ts';

export type PaymentLinkPageModel = PageShellModel & {
  kind: PaymentLinkPageKind;
  livemode: boolean;
  merchant: MerchantBranding;
  merchantOrderId?: string;
  amount?: MoneyView;
  returnUrl?: string;
};

const ICONS: Record<PaymentLinkPageKind, { icon: IconName; tone: string }> = {
  expired: { icon: 'clock', tone: 'neutral' },
  used: { icon: 'check', tone: 'success' },
  deactivated: { icon: 'cross', tone: 'neutral' },
  busy: { icon: 'clock', tone: 'info' },
};

export function renderPaymentLinkPage(model: PaymentLinkPageModel): string {
  const page = pageLocaleOf(model);
  const text = page.text.link[model.kind];
  return renderOutcomePage(model, page, {
    ...ICONS[model.kind],
    title: text.title,
    message: text.body,
    details: [
      { label: page.text.orderNumber, value: model.merchantOrderId },
      { label: page.text.amount, value: model.amount && formatPageMoney(model.amount, page) },
    ],
  });
}
