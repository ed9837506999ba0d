import type { CardBrand } from '../../lib/card.ts';
import { html, raw } from '../../lib/html.ts';
import type { SafeHtml } from '../../lib/html.ts';

/**
 * Small card-brand marks (32 × 20), drawn for Kassa from simple shapes and the brand's name in the system
 * font: no artwork is copied from a brand's asset kit, so they ship under the project's licence (MIT). The
 * names and colours are the card schemes' trademarks, shown only to say which cards the merchant accepts —
 * the use every scheme's acceptance-mark rules allow a merchant's payment page.
 *
 * Each mark is an `<svg role="img">` named by `aria-label`, so a screen reader reads the brand's name.
 */

export const BRAND_NAMES: Record<Exclude<CardBrand, 'unknown'>, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  diners: 'Diners Club',
  jcb: 'JCB',
  unionpay: 'UnionPay',
  maestro: 'Maestro',
};

const TEXT = `font-family="system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif" font-weight="700" text-anchor="middle"`;

const BODIES: Record<Exclude<CardBrand, 'unknown'>, string> = {
  visa: `<rect width="32" height="20" rx="3" fill="#1a1f71"/><text transform="translate(16 14)" ${TEXT} font-size="9" font-style="italic" fill="#ffffff">VISA</text>`,
  mastercard: `<rect width="32" height="20" rx="3" fill="#ffffff" stroke="#d0d5dd"/><circle cx="12.5" cy="10" r="6" fill="#eb001b"/><circle cx="19.5" cy="10" r="6" fill="#f79e1b"/><path d="M16 5.13a6 6 0 0 1 0 9.74a6 6 0 0 1 0-9.74z" fill="#ff5f00"/>`,
  amex: `<rect width="32" height="20" rx="3" fill="#1f72cd"/><text transform="translate(16 13.5)" ${TEXT} font-size="7.5" fill="#ffffff">AMEX</text>`,
  discover: `<rect width="32" height="20" rx="3" fill="#ffffff" stroke="#d0d5dd"/><circle cx="24.5" cy="10" r="3.5" fill="#f58220"/><text transform="translate(12 12.5)" ${TEXT} font-size="5.5" fill="#231f20">DISC</text>`,
  diners: `<rect width="32" height="20" rx="3" fill="#ffffff" stroke="#d0d5dd"/><circle cx="16" cy="10" r="6.5" fill="none" stroke="#0079be" stroke-width="2"/><path d="M14 6.5v7M18 6.5v7" stroke="#0079be" stroke-width="1.5"/>`,
  jcb: `<rect width="32" height="20" rx="3" fill="#ffffff" stroke="#d0d5dd"/><rect x="6" y="4" width="6" height="12" rx="2" fill="#0b4ea2"/><rect x="13" y="4" width="6" height="12" rx="2" fill="#e21836"/><rect x="20" y="4" width="6" height="12" rx="2" fill="#00a04b"/><text transform="translate(16 12.5)" ${TEXT} font-size="6" fill="#ffffff">JCB</text>`,
  unionpay: `<rect width="32" height="20" rx="3" fill="#ffffff" stroke="#d0d5dd"/><path d="M7 4h6l-2 12H5z" fill="#e21836"/><path d="M13 4h6l-2 12h-6z" fill="#00447c"/><path d="M19 4h7l-2 12h-7z" fill="#007b84"/>`,
  maestro: `<rect width="32" height="20" rx="3" fill="#ffffff" stroke="#d0d5dd"/><circle cx="12.5" cy="10" r="6" fill="#0099df"/><circle cx="19.5" cy="10" r="6" fill="#e60012"/><path d="M16 5.13a6 6 0 0 1 0 9.74a6 6 0 0 1 0-9.74z" fill="#6c6bbd"/>`,
};

/** One brand's mark; `data-brand-mark` lets checkout.js copy it into the card number field. */
export function renderBrandMark(brand: Exclude<CardBrand, 'unknown'>): SafeHtml {
  return html`<svg
    class="brand-mark"
    data-brand-mark="${brand}"
    role="img"
    aria-label="${BRAND_NAMES[brand]}"
    viewBox="0 0 32 20"
    width="32"
    height="20"
    focusable="false"
  >
    ${raw(BODIES[brand])}
  </svg>`;
}
