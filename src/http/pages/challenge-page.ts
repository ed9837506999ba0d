import type { CardBrand } from '../../lib/card.ts';
import { html } from '../../lib/html.ts';
import { renderIcon } from './page-icons.ts';
import {
  formatPageMoney,
  renderCsrfField,
  renderDetails,
  renderDocument,
  renderFooter,
  renderTestModeBadge,
  pageLocaleOf,
} from './page-layout.ts';
import type { MoneyView, PageShellModel } from './page-layout.ts';
import { derivePageTheme } from './page-theme.ts';

/**
 * The sandbox acquirer's 3-D Secure challenge: a simulated bank page (test mode only), styled as the bank
 * rather than the merchant so it reads as a different party. Both outcomes are POST forms to one action,
 * told apart by the hidden `outcome` field.
 */

export const CHALLENGE_FORM_FIELDS = { outcome: 'outcome' } as const;
export type ChallengeOutcome = 'complete' | 'fail';

export type ChallengePageModel = PageShellModel & {
  merchant: { displayName: string };
  amount: MoneyView;
  /** Shown as "Visa •••• 3220"; a last4 that is not exactly four digits is not shown. */
  card?: { brand: CardBrand; last4: string };
  action: string;
  csrfToken: string;
};

const SANDBOX_BANK_COLOR = '#0b4f8a';

const BRAND_LABELS: Record<CardBrand, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  diners: 'Diners Club',
  jcb: 'JCB',
  unionpay: 'UnionPay',
  maestro: 'Maestro',
  unknown: '',
};

function describeCard(card: ChallengePageModel['card']): string | undefined {
  if (!card || !/^\d{4}$/.test(card.last4)) return undefined;
  return `${BRAND_LABELS[card.brand]} •••• ${card.last4}`.trim();
}

export function renderChallengePage(model: ChallengePageModel): string {
  const page = pageLocaleOf(model);
  const text = page.text.challenge;
  const outcomeForm = (outcome: ChallengeOutcome, label: string, variant: string) =>
    html`<form method="post" action="${model.action}" data-submit-once>
      ${renderCsrfField(model.csrfToken)}
      <input type="hidden" name="${CHALLENGE_FORM_FIELDS.outcome}" value="${outcome}" />
      <button class="button ${variant}" type="submit">${label}</button>
    </form>`;
  const body = html`<div class="shell shell--narrow">
    <main class="panel panel--sandbox">
      <div class="sandbox-bar">
        ${renderIcon('shield', 'icon sandbox-bar__icon')}
        <span class="sandbox-bar__name">${text.bank}</span>
        ${renderTestModeBadge(page)}
      </div>
      <div class="panel__body">
        <h1 class="panel__title">${text.heading}</h1>
        <p class="panel__text">${text.intro}</p>
        ${renderDetails([
          { label: text.merchant, value: model.merchant.displayName },
          { label: text.amount, value: formatPageMoney(model.amount, page) },
          { label: text.card, value: describeCard(model.card) },
        ])}
        <div class="actions">
          ${outcomeForm('complete', text.complete, 'button--primary')}
          ${outcomeForm('fail', text.fail, 'button--secondary')}
        </div>
        <p class="panel__notice">${text.notice}</p>
      </div>
    </main>
    ${renderFooter(page)}
  </div>`;
  return renderDocument({
    page,
    title: `${text.heading} – ${text.bank}`,
    nonce: model.nonce,
    assetBase: model.assetBase,
    theme: derivePageTheme(SANDBOX_BANK_COLOR),
    bodyClass: 'page page--sandbox',
    body,
  });
}
