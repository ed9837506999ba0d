import { formatMoney } from '../../lib/money.ts';
import { html, type SafeHtml } from '../../lib/html.ts';
import { DEMO_CURRENCY, DEMO_LOCALE } from '../catalogue.ts';

/**
 * The demo shop's document shell and response headers. The shop is a merchant website, not a Kassa payment
 * page, but it follows the same page rules: escaping by default (`html`), a strict CSP with a per-response
 * nonce, no inline script, style attribute or event handler, and only its own stylesheet and scripts
 * (`public/demo/`) plus Kassa's browser SDK, loaded with its SRI hash.
 */

export const DEMO_ASSETS = '/public/demo';

export type SdkScript = { src: string; integrity: string };

export type DemoDocument = {
  title: string;
  body: SafeHtml;
  /** Items in the cart, shown in the header; undefined on pages served through Kassa (no cookie there). */
  cartCount?: number;
  /** This response's CSP nonce; only pages that load scripts need one. */
  nonce?: string;
  /** Load Kassa's browser SDK and the shop's demo.js (the embedded payment and landing pages). */
  sdk?: SdkScript;
  /** Load demo.js alone (copy buttons). */
  script?: boolean;
};

export function formatDemoMoney(amountMinor: number, currency: string = DEMO_CURRENCY): string {
  return formatMoney(amountMinor, currency, DEMO_LOCALE);
}

export function renderDemoDocument(document: DemoDocument): string {
  const { nonce, sdk } = document;
  const scripts =
    nonce &&
    html`${
      sdk &&
      html`<script
        src="${sdk.src}"
        integrity="${sdk.integrity}"
        crossorigin="anonymous"
        nonce="${nonce}"
        defer
      ></script>`
    }${(sdk || document.script) && html`<script src="${DEMO_ASSETS}/demo.js" nonce="${nonce}" defer></script>`}`;
  const page = html`<html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex, nofollow" />
      <title>${document.title} · Demo Shop</title>
      <link rel="stylesheet" href="${DEMO_ASSETS}/demo.css" />
      ${scripts}
    </head>
    <body class="demo">
      <div class="demo-banner" role="note">
        <strong>Demo shop in test mode.</strong> It runs inside Kassa but talks to it only through the public
        API, with the demo merchant's test key. Pay with <span class="demo-mono">4242 4242 4242 4242</span>,
        any future expiry and any CVC.
      </div>
      <header class="demo-header">
        <div class="demo-container demo-header__inner">
          <a class="demo-brand" href="/demo">
            <span class="demo-brand__mark" aria-hidden="true">D</span>
            <span class="demo-brand__name">Demo Shop</span>
            <span class="demo-brand__tag">Nordic homeware</span>
          </a>
          <a class="demo-cart-link" href="/demo/cart">
            Cart${document.cartCount !== undefined && html` <span class="demo-count">${document.cartCount}</span>`}
          </a>
        </div>
      </header>
      <main class="demo-container demo-main">${document.body}</main>
      <footer class="demo-footer">
        <div class="demo-container">
          Payments by Kassa, test mode · <a href="/docs">API reference</a> · Prices in Danish kroner, VAT
          included
        </div>
      </footer>
    </body>
  </html>`;
  return `<!doctype html>\n${page.value}`;
}

/**
 * Headers of the shop's own pages. `kassaOrigin` is Kassa's public origin: the SDK is loaded from it and
 * calls it, and the shop's forms are answered with redirects to its payment pages (Chrome checks those
 * against form-action). With a nonce: scripts must carry it (or come from these origins).
 */
export function demoPageHeaders(kassaOrigin: string, nonce?: string): Record<string, string> {
  const csp = [
    "default-src 'none'",
    `script-src ${nonce ? `'nonce-${nonce}' ` : ''}'self' ${kassaOrigin}`,
    `style-src 'self' ${kassaOrigin}`,
    "img-src 'self' data:",
    `connect-src 'self' ${kassaOrigin}`,
    `form-action 'self' ${kassaOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
    // The landing page's address carries the link's client token until the SDK removes it.
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  };
}
