import { ASSET_BASE } from '../../http/hosted/page-reply.ts';
import { renderCheckoutPage, type OrderSummaryView } from '../../http/pages/checkout-page.ts';
import { PAGE_SCRIPT } from '../../http/pages/page-layout.ts';
import { sanitizeHexColor } from '../../http/pages/page-theme.ts';
import { refuseRedirectUrl } from '../../modules/checkouts/checkout.urls.ts';
import type { Merchant } from '../../modules/merchants/merchant.types.ts';

/**
 * The branding preview: the hosted payment page's own renderer (`renderCheckoutPage`, what `/pay` shows) with
 * a sample order and the branding as typed, not yet saved. Its forms lead nowhere: the settings page shows it
 * in a sandboxed frame that may not submit forms or run scripts.
 */

export type BrandingDraft = { displayName: string; logoUrl: string; primaryColor: string };

const SAMPLE_ORDER: OrderSummaryView = {
  merchantOrderId: 'PREVIEW-1001',
  currency: 'EUR',
  products: [
    { name: 'Linen shirt', quantity: 1, unitPrice: 4900 },
    { name: 'Canvas tote', quantity: 2, unitPrice: 1250 },
  ],
  subtotal: 7400,
  discounts: [],
  taxes: [],
  shipping: 495,
  total: 7895,
};

export function renderBrandingPreview(input: {
  merchant: Merchant;
  draft: BrandingDraft;
  livemode: boolean;
  nonce: string;
}): string {
  const { merchant, draft } = input;
  // A logo the settings service would refuse is not shown, as it could not be saved either.
  const logoUrl =
    draft.logoUrl && refuseRedirectUrl(draft.logoUrl, input.livemode) === null ? draft.logoUrl : undefined;
  const primaryColor = sanitizeHexColor(draft.primaryColor) ?? undefined;
  const page = renderCheckoutPage({
    locale: merchant.defaultLocale,
    nonce: input.nonce,
    assetBase: ASSET_BASE,
    livemode: input.livemode,
    merchant: {
      displayName: draft.displayName.slice(0, 100) || merchant.displayName || merchant.name,
      ...(logoUrl ? { logoUrl } : {}),
      ...(primaryColor ? { primaryColor } : {}),
    },
    order: SAMPLE_ORDER,
    methods: [{ type: 'card', brands: ['visa', 'mastercard'] }, { type: 'invoice' }],
    csrfToken: '',
    payAction: '/dashboard/settings',
    cancelAction: '/dashboard/settings',
  });
  // The frame may run no script (its sandbox), so the page is shown as it works without one: the hosted
  // page's script tag is left out rather than refused by the browser.
  const withoutScript = page.replace(SCRIPT_TAG, '');
  if (withoutScript === page) throw new Error('The hosted page no longer loads its script as expected');
  return withoutScript;
}

const SCRIPT_TAG = new RegExp(`<script src="${ASSET_BASE}/${PAGE_SCRIPT}" nonce="[^"]*" defer></script>`);
