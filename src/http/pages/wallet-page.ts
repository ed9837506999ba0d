import { formatPageMoney, pageLocaleOf } from './page-layout.ts';
import type { MoneyView, PageShellModel } from './page-layout.ts';
import { renderSandboxPage } from './sandbox-page.ts';

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
  return renderSandboxPage({
    page,
    shell: model,
    icon: 'wallet',
    partyName: text.name,
    partyColor: SANDBOX_WALLET_COLOR,
    heading: text.heading,
    intro: text.intro(model.merchant.displayName),
    details: [
      { label: text.merchant, value: model.merchant.displayName },
      { label: page.text.orderNumber, value: model.merchantOrderId },
      { label: text.amount, value: formatPageMoney(model.amount, page) },
    ],
    notice: text.notice,
    action: model.action,
    csrfToken: model.csrfToken,
    choiceField: WALLET_FORM_FIELDS.decision,
    choices: [
      { value: 'approve' satisfies WalletDecision, label: text.approve, variant: 'button--primary' },
      { value: 'decline' satisfies WalletDecision, label: text.decline, variant: 'button--secondary' },
    ],
  });
}
