import type { IconName } from './page-icons.ts';
import { formatPageMoney } from './page-layout.ts';
import type { MerchantBranding, MoneyView, PageShellModel } from './page-layout.ts';
import { resolvePageLocale } from './page-locale.ts';
import type { PageLocale } from './page-locale.ts';
import { renderOutcomePage } from './status-page.ts';

/**
 * What a payment link says when it cannot be paid (docs/payment-links.md: "an expired or used link says so clearly"). Same
 * layout as the checkout status pages; no form, only a link back to the store when there is one.
 */

export type PaymentLinkPageKind = 'expired' | 'used' | 'deactivated' | 'busy';

export type PaymentLinkPageModel = PageShellModel & {
  kind: PaymentLinkPageKind;
  livemode: boolean;
  merchant: MerchantBranding;
  merchantOrderId?: string;
  amount?: MoneyView;
  returnUrl?: string;
};

type LinkTexts = Record<PaymentLinkPageKind, { title: string; body: string }>;

const TEXTS: Record<PageLocale, LinkTexts> = {
  EN: {
    expired: {
      title: 'This payment link has expired',
      body: 'The time to pay with this link has run out and no payment was made. Ask the store for a new link.',
    },
    used: {
      title: 'This payment link has already been used',
      body: 'The payment for this link was already made, so it cannot be paid again. Nothing more is needed.',
    },
    deactivated: {
      title: 'This payment link is no longer active',
      body: 'The store has switched this link off and no payment was made. Contact the store if you still want to pay.',
    },
    busy: {
      title: 'A payment with this link is in progress',
      body: 'Someone is paying with this link right now. Wait a moment and open the link again.',
    },
  },
  ES_LATAM: {
    expired: {
      title: 'Este enlace de pago expiró',
      body: 'Se acabó el tiempo para pagar con este enlace y no se hizo ningún cargo. Pide un enlace nuevo a la tienda.',
    },
    used: {
      title: 'Este enlace de pago ya se usó',
      body: 'El pago de este enlace ya se realizó, así que no se puede volver a pagar. No tienes que hacer nada más.',
    },
    deactivated: {
      title: 'Este enlace de pago ya no está activo',
      body: 'La tienda desactivó este enlace y no se hizo ningún cargo. Comunícate con la tienda si aún quieres pagar.',
    },
    busy: {
      title: 'Hay un pago en curso con este enlace',
      body: 'Alguien está pagando con este enlace en este momento. Espera un momento y vuelve a abrir el enlace.',
    },
  },
  DA: {
    expired: {
      title: 'Betalingslinket er udløbet',
      body: 'Tiden til at betale med dette link er gået, og der er ikke trukket penge. Bed butikken om et nyt link.',
    },
    used: {
      title: 'Betalingslinket er allerede brugt',
      body: 'Betalingen for dette link er allerede gennemført, så det kan ikke betales igen. Du behøver ikke gøre mere.',
    },
    deactivated: {
      title: 'Betalingslinket er ikke længere aktivt',
      body: 'Butikken har slået linket fra, og der er ikke trukket penge. Kontakt butikken, hvis du stadig vil betale.',
    },
    busy: {
      title: 'Der er en betaling i gang med dette link',
      body: 'Nogen betaler med dette link lige nu. Vent et øjeblik, og åbn linket igen.',
    },
  },
};

const ICONS: Record<PaymentLinkPageKind, { icon: IconName; tone: string }> = {
  expired: { icon: 'clock', tone: 'neutral' },
  used: { icon: 'check', tone: 'success' },
  deactivated: { icon: 'cross', tone: 'neutral' },
  busy: { icon: 'clock', tone: 'info' },
};

export function renderPaymentLinkPage(model: PaymentLinkPageModel): string {
  const page = resolvePageLocale(model.locale);
  const text = TEXTS[page.locale][model.kind];
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
