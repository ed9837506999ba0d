import type { CardBrand } from '../../lib/card.ts';
import { BRAND_NAMES } from './card-brand-marks.ts';
import { formatPageMoney, pageLocaleOf } from './page-layout.ts';
import type { MoneyView, PageShellModel } from './page-layout.ts';
import { renderSandboxPage } from './sandbox-page.ts';

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

function describeCard(card: ChallengePageModel['card']): string | undefined {
  if (!card || !/^\d{4}$/.test(card.last4)) return undefined;
  const brand = card.brand === 'unknown' ? '' : BRAND_NAMES[card.brand];
  return `${brand} •••• ${card.last4}`.trim();
}

export function renderChallengePage(model: ChallengePageModel): string {
  const page = pageLocaleOf(model);
  const text = page.text.challenge;
  return renderSandboxPage({
    page,
    shell: model,
    icon: 'shield',
    partyName: text.bank,
    partyColor: SANDBOX_BANK_COLOR,
    heading: text.heading,
    intro: text.intro,
    details: [
      { label: text.merchant, value: model.merchant.displayName },
      { label: text.amount, value: formatPageMoney(model.amount, page) },
      { label: text.card, value: describeCard(model.card) },
    ],
    notice: text.notice,
    action: model.action,
    csrfToken: model.csrfToken,
    choiceField: CHALLENGE_FORM_FIELDS.outcome,
    choices: [
      { value: 'complete' satisfies ChallengeOutcome, label: text.complete, variant: 'button--primary' },
      { value: 'fail' satisfies ChallengeOutcome, label: text.fail, variant: 'button--secondary' },
    ],
  });
}
