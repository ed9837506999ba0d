import { html } from '../../lib/html.ts';
import { renderIcon } from './page-icons.ts';
import type { IconName } from './page-icons.ts';
import { renderCsrfField, renderDetails, renderPanelPage, renderTestModeBadge } from './page-layout.ts';
import type { DetailRow, PageShellModel } from './page-layout.ts';
import type { ResolvedPageLocale } from './page-locale.ts';
import { derivePageTheme } from './page-theme.ts';

/**
 * The page a sandbox party (the test acquirer's bank, the test wallet) shows in test mode: styled as that
 * party rather than the merchant so it reads as someone else, with the shopper's two answers as POST forms to
 * one action, told apart by one hidden field. The 3-D Secure challenge and the wallet approval are this page
 * with different words, so they share it.
 */

export type SandboxChoice = {
  value: string;
  label: string;
  variant: 'button--primary' | 'button--secondary';
};

export type SandboxPage = {
  page: ResolvedPageLocale;
  shell: Pick<PageShellModel, 'nonce' | 'assetBase'>;
  icon: IconName;
  partyName: string;
  /** The party's colour, so the page does not wear the merchant's. */
  partyColor: string;
  heading: string;
  intro: string;
  details: readonly DetailRow[];
  notice: string;
  action: string;
  csrfToken: string;
  /** The hidden field that carries which answer the shopper chose. */
  choiceField: string;
  choices: readonly [SandboxChoice, SandboxChoice];
};

export function renderSandboxPage(options: SandboxPage): string {
  const { page } = options;
  const choiceForm = (choice: SandboxChoice) =>
    html`<form method="post" action="${options.action}" data-submit-once>
      ${renderCsrfField(options.csrfToken)}
      <input type="hidden" name="${options.choiceField}" value="${choice.value}" />
      <button class="button ${choice.variant}" type="submit">${choice.label}</button>
    </form>`;
  const [first, second] = options.choices;
  return renderPanelPage({
    page,
    title: `${options.heading} – ${options.partyName}`,
    nonce: options.shell.nonce,
    assetBase: options.shell.assetBase,
    theme: derivePageTheme(options.partyColor),
    bodyClass: 'page page--sandbox',
    panelClass: 'panel--sandbox',
    panel: html`<div class="sandbox-bar">
        ${renderIcon(options.icon, 'icon sandbox-bar__icon')}
        <span class="sandbox-bar__name">${options.partyName}</span>
        ${renderTestModeBadge(page)}
      </div>
      <div class="panel__body">
        <h1 class="panel__title">${options.heading}</h1>
        <p class="panel__text">${options.intro}</p>
        ${renderDetails(options.details)}
        <div class="actions">${choiceForm(first)} ${choiceForm(second)}</div>
        <p class="panel__notice">${options.notice}</p>
      </div>`,
  });
}
