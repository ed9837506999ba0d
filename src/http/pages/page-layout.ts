import { html, raw, safeImageUrl } from '../../lib/html.ts';
import type { SafeHtml } from '../../lib/html.ts';
import { renderIcon } from './page-icons.ts';
import { resolvePageLocale } from './page-locale.ts';
import type { PageLocaleSources, ResolvedPageLocale } from './page-locale.ts';
import type { PageTheme } from './page-theme.ts';

/**
 * What every hosted page shares: the document shell (assets, theme, lang), the merchant header, the footer,
 * and the hidden CSRF field. Every page loads exactly one stylesheet and one script, both from `public/`
 * (inventoried in docs/page-scripts.md); the only inline element is the nonce'd theme <style>, whose values
 * are strict `#rrggbb` colours.
 */

/** The name of the hidden CSRF field in every form of every hosted page. */
export const CSRF_FIELD = 'csrf_token';

export const PAGE_STYLESHEET = 'checkout/checkout.css';
export const PAGE_SCRIPT = 'checkout/checkout.js';

export type MerchantBranding = {
  displayName: string;
  /** https URL, same-origin path or base64 image data URL; anything else is not rendered. */
  logoUrl?: string;
  /** `#rrggbb` (or `#rgb`); anything else falls back to Kassa's default colour. */
  primaryColor?: string;
};

/** An amount to display: integer minor units with its ISO 4217 currency. */
export type MoneyView = { amountMinor: number; currency: string };

/** Fields every page model carries for the document shell. */
export type PageShellModel = {
  /** The checkout's locale: `EN`, `ES_LATAM`, `DA` or a BCP 47 tag such as `es-MX`; null when it has none. */
  locale: string | null;
  /**
   * Where the language comes from when `locale` is null or not spoken (the shopper's Accept-Language, then the
   * merchant's default), and the order's country, which money is formatted for.
   */
  localeHints?: Omit<PageLocaleSources, 'locale'>;
  /** This response's CSP nonce (see `createCspNonce`), repeated in the Content-Security-Policy header. */
  nonce: string;
  /** URL path under which `public/` is served, e.g. `/public`. */
  assetBase: string;
};

const HEX_COLOR = /^#[0-9a-f]{6}$/;

function renderThemeCss(theme: PageTheme): string {
  // Defence in depth: these values go into a <style> element unescaped (CSS is not HTML).
  for (const value of [theme.brand, theme.onBrand, theme.accent]) {
    if (!HEX_COLOR.test(value)) throw new TypeError('Theme colours must be #rrggbb');
  }
  return `:root{--brand:${theme.brand};--on-brand:${theme.onBrand};--accent:${theme.accent}}`;
}

export type DocumentOptions = {
  page: ResolvedPageLocale;
  title: string;
  nonce: string;
  assetBase: string;
  theme: PageTheme;
  bodyClass: string;
  body: SafeHtml;
  /**
   * A waiting page that moves on by itself to `url` (a same-origin path). Without script a meta refresh
   * reloads it every `seconds` (inside <noscript>); with script, checkout.js asks `url` in the background as
   * often and navigates only once the answer is no longer this waiting page, so a screen reader is not
   * interrupted by reloads of the same content (WCAG 2.2.1, docs/accessibility.md). CSP does not govern a
   * meta refresh, and the path is ours, so no merchant input reaches it.
   */
  refresh?: { seconds: number; url: string };
};

function checkRefresh(refresh: NonNullable<DocumentOptions['refresh']>): void {
  if (
    !/^\/(?![/\\])[^\s;,]*$/.test(refresh.url) ||
    !Number.isInteger(refresh.seconds) ||
    refresh.seconds < 0
  ) {
    throw new TypeError('A page refresh must name a same-origin path and a whole number of seconds');
  }
}

function renderRefresh(refresh: DocumentOptions['refresh']): SafeHtml | false {
  if (!refresh) return false;
  checkRefresh(refresh);
  const meta = html`<meta http-equiv="refresh" content="${refresh.seconds};url=${refresh.url}" />`;
  return html`<noscript>${meta}</noscript>`;
}

/** The attributes checkout.js polls a waiting page with (see `DocumentOptions.refresh`). */
function renderRefreshAttributes(refresh: DocumentOptions['refresh']): SafeHtml | false {
  if (!refresh) return false;
  checkRefresh(refresh);
  return html` data-refresh-url="${refresh.url}" data-refresh-seconds="${refresh.seconds}"`;
}

export function renderDocument(options: DocumentOptions): string {
  const base = options.assetBase.replace(/\/+$/, '');
  const document = html`<html lang="${options.page.htmlLang}">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex, nofollow" />
      <meta name="color-scheme" content="light" />
      ${renderRefresh(options.refresh)}
      <title>${options.title}</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href="${base}/${PAGE_STYLESHEET}" nonce="${options.nonce}" />
      <style nonce="${options.nonce}">
        ${raw(renderThemeCss(options.theme))}
      </style>
      <script src="${base}/${PAGE_SCRIPT}" nonce="${options.nonce}" defer></script>
    </head>
    <body class="${options.bodyClass}" ${renderRefreshAttributes(options.refresh)}>
      ${options.body}
    </body>
  </html> `;
  return `<!doctype html>\n${document.value}`;
}

/** A page of one panel (`panelClass`: its modifier) in the narrow shell, above the footer. */
export function renderPanelPage(
  options: Omit<DocumentOptions, 'body'> & { panelClass: string; panel: SafeHtml },
): string {
  const { panelClass, panel, ...document } = options;
  const body = html`<div class="shell shell--narrow">
    <main class="panel ${panelClass}">${panel}</main>
    ${renderFooter(options.page)}
  </div>`;
  return renderDocument({ ...document, body });
}

export function renderCsrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}" />`;
}

export function renderTestModeBadge(page: ResolvedPageLocale): SafeHtml {
  return html`<span class="badge badge--test">${page.text.testMode}</span>`;
}

/**
 * Logo (decorative: the name is printed next to it) and display name, plus the test-mode badge. The logo sits
 * on top of the merchant's initial: if it does not load, checkout.js removes it and the initial shows.
 */
export function renderMerchantHeader(
  merchant: MerchantBranding,
  page: ResolvedPageLocale,
  options: { livemode: boolean },
): SafeHtml {
  const logo = safeImageUrl(merchant.logoUrl);
  return html`<div class="merchant">
    ${
      logo
        ? html`<span class="merchant__mark"
            ><span class="merchant__initial" aria-hidden="true" data-logo-initial
              >${initialOf(merchant.displayName)}</span
            ><img class="merchant__logo" src="${logo}" alt="" width="32" height="32" data-logo
          /></span>`
        : html`<span class="merchant__initial" aria-hidden="true">${initialOf(merchant.displayName)}</span>`
    }
    <span class="merchant__name">${merchant.displayName}</span>
    ${!options.livemode && renderTestModeBadge(page)}
  </div>`;
}

function initialOf(name: string): string {
  const first = [...name.trim()][0];
  return first ? first.toLocaleUpperCase() : '•';
}

export function renderFooter(page: ResolvedPageLocale): SafeHtml {
  return html`<footer class="page-footer">
    ${renderIcon('lock', 'icon icon--small')} ${page.text.securedBy}
  </footer>`;
}

export function formatPageMoney(money: MoneyView, page: ResolvedPageLocale): string {
  return page.money(money.amountMinor, money.currency);
}

/** The language and money format of a page model (see `resolvePageLocale`). */
export function pageLocaleOf(model: Pick<PageShellModel, 'locale' | 'localeHints'>): ResolvedPageLocale {
  return resolvePageLocale({ locale: model.locale, ...model.localeHints });
}

export type DetailRow = { label: string; value: string | undefined; code?: boolean };

/** A label/value list (order number, payment id, amount); rows with no value are left out. */
export function renderDetails(rows: readonly DetailRow[]): SafeHtml {
  const shown = rows.filter((row) => Boolean(row.value));
  if (shown.length === 0) return html``;
  return html`<dl class="details">
    ${shown.map(
      (row) =>
        html`<div class="details__row"><dt>${row.label}</dt><dd${row.code ? html` class="details__code"` : ''}>${row.value}</dd></div>`,
    )}
  </dl>`;
}
