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
 * The sandbox wallet's approval page (test mode only): where a redirect-style wallet sends the shopper.
 * Approve and Decline are POST forms to one action, told apart by the hidden `decision` field.
 */

export const WALLET_FORM_FIELDS = { decision: 'decision' } as const;
export type WalletDecision = 'approve' | 'decline';

export type WalletPageModel = PageShellModel & {
  merchant: { displayName: string };
  amount: MoneyView;
  merchantOrderId?: string;
  action: string;
  csrfToken: string;
};

const SANDBOX_WALLET_COLOR = '#1f2937';

export function renderWalletPage(model: WalletPageModel): string {
  const page = pageLocaleOf(model);
  const text = page.text.wallet;
  const decisionForm = (decision: WalletDecision, label: string, variant: string) =>
    html`<form method="post" action="${model.action}" data-submit-once>
      ${renderCsrfField(model.csrfToken)}
      <input type="hidden" name="${WALLET_FORM_FIELDS.decision}" value="${decision}" />
      <button class="button ${variant}" type="submit">${label}</button>
    </form>`;
  const body = html`<div class="shell shell--narrow">
    <main class="panel panel--sandbox">
      <div class="sandbox-bar">
        ${renderIcon('wallet', 'icon sandbox-bar__icon')}
        <span class="sandbox-bar__name">${text.name}</span>
        ${renderTestModeBadge(page)}
      </div>
      <div class="panel__body">
        <h1 class="panel__title">${text.heading}</h1>
        <p class="panel__text">${text.intro(model.merchant.displayName)}</p>
        ${renderDetails([
          { label: text.merchant, value: model.merchant.displayName },
          { label: page.text.orderNumber, value: model.merchantOrderId },
          { label: text.amount, value: formatPageMoney(model.amount, page) },
        ])}
        <div class="actions">
          ${decisionForm('approve', text.approve, 'button--primary')}
          ${decisionForm('decline', text.decline, 'button--secondary')}
        </div>
        <p class="panel__notice">${text.notice}</p>
      </div>
    </main>
    ${renderFooter(page)}
  </div>`;
  return renderDocument({
    page,
    title: `${text.heading} – ${text.name}`,
    nonce: model.nonce,
    assetBase: model.assetBase,
    theme: derivePageTheme(SANDBOX_WALLET_COLOR),
    bodyClass: 'page page--sandbox',
    body,
  });
}
