import { html, safeHttpUrl } from '../../lib/html.ts';
import { renderIcon } from './page-icons.ts';
import type { IconName } from './page-icons.ts';
import {
  formatPageMoney,
  renderDetails,
  renderPanelPage,
  renderMerchantHeader,
  pageLocaleOf,
} from './page-layout.ts';
import type { DetailRow, MerchantBranding, MoneyView, PageShellModel } from './page-layout.ts';
import type { ResolvedPageLocale, StatusPageKind } from './page-locale.ts';
import { derivePageTheme } from './page-theme.ts';

/**
 * Terminal and waiting states of a checkout, and the error page shown when the merchant's callback fails.
 * None has a form: the only action is a plain link back to the store, and only to an http(s) URL.
 */

export type { StatusPageKind } from './page-locale.ts';

export type StatusPageModel = PageShellModel & {
  kind: StatusPageKind;
  livemode: boolean;
  merchant: MerchantBranding;
  merchantOrderId?: string;
  amount?: MoneyView;
  /** The store's URL; rendered only when it is http(s). */
  returnUrl?: string;
  /** A waiting page (`processing`) reloads this same-origin path after `seconds`, with no script. */
  refresh?: { seconds: number; url: string };
};

export type ErrorPageModel = PageShellModel & {
  livemode: boolean;
  merchant: MerchantBranding;
  /** Shown so the shopper can quote them to the store. */
  merchantOrderId: string;
  paymentId: string;
  amount?: MoneyView;
  returnUrl?: string;
  /** The money was taken (authorized or captured): the page says the payment went through. */
  paymentSucceeded?: boolean;
};

const STATUS_ICONS: Record<StatusPageKind, { icon: IconName; tone: string }> = {
  completed: { icon: 'check', tone: 'success' },
  pending: { icon: 'clock', tone: 'info' },
  canceled: { icon: 'cross', tone: 'neutral' },
  expired: { icon: 'clock', tone: 'neutral' },
  processing: { icon: 'clock', tone: 'info' },
  not_found: { icon: 'alert', tone: 'neutral' },
  invalid_checkout: { icon: 'alert', tone: 'neutral' },
  invalid_payment_link: { icon: 'alert', tone: 'neutral' },
};

export type OutcomeContent = {
  icon: IconName;
  tone: string;
  title: string;
  message: string;
  details: readonly DetailRow[];
};

/** The shared layout of every outcome page (also used by the payment-link pages). */
export function renderOutcomePage(
  model: PageShellModel & {
    livemode: boolean;
    merchant: MerchantBranding;
    returnUrl?: string;
    refresh?: StatusPageModel['refresh'];
  },
  page: ResolvedPageLocale,
  content: OutcomeContent,
): string {
  const returnUrl = safeHttpUrl(model.returnUrl);
  return renderPanelPage({
    page,
    title: `${content.title} – ${model.merchant.displayName}`,
    nonce: model.nonce,
    assetBase: model.assetBase,
    theme: derivePageTheme(model.merchant.primaryColor),
    bodyClass: `page page--status page--${content.tone}`,
    panelClass: 'panel--status',
    panel: html`<div class="panel__header">
        ${renderMerchantHeader(model.merchant, page, { livemode: model.livemode })}
      </div>
      <div class="panel__body panel__body--center">
        <div class="status-icon status-icon--${content.tone}">
          ${renderIcon(content.icon, 'icon status-icon__svg')}
        </div>
        <h1 class="panel__title">${content.title}</h1>
        <p class="panel__text">${content.message}</p>
        ${renderDetails(content.details)}
        ${returnUrl && html`<a class="button button--primary" href="${returnUrl}">${page.text.returnToStore}</a>`}
      </div>`,
    ...(model.refresh ? { refresh: model.refresh } : {}),
  });
}

export function renderStatusPage(model: StatusPageModel): string {
  const page = pageLocaleOf(model);
  const { text } = page;
  return renderOutcomePage(model, page, {
    ...STATUS_ICONS[model.kind],
    title: text.status[model.kind].title,
    message: text.status[model.kind].body,
    details: [
      { label: text.orderNumber, value: model.merchantOrderId },
      { label: text.amount, value: model.amount && formatPageMoney(model.amount, page) },
    ],
  });
}

export function renderErrorPage(model: ErrorPageModel): string {
  const page = pageLocaleOf(model);
  const { text } = page;
  return renderOutcomePage(model, page, {
    ...(model.paymentSucceeded
      ? {
          icon: 'check',
          tone: 'success',
          title: text.errorPage.paidTitle,
          message: text.errorPage.paidBody(model.merchant.displayName),
        }
      : {
          icon: 'alert',
          tone: 'warning',
          title: text.errorPage.title,
          message: text.errorPage.body(model.merchant.displayName),
        }),
    details: [
      { label: text.orderNumber, value: model.merchantOrderId },
      { label: text.paymentId, value: model.paymentId, code: true },
      { label: text.amount, value: model.amount && formatPageMoney(model.amount, page) },
    ],
  });
}
