import type { CheckoutPageModel, OrderSummaryView } from '../../../src/http/pages/checkout-page.ts';

/** Sample data and small HTML inspection helpers for the page tests (not a test file itself). */

export const NONCE = 'dGVzdC1ub25jZS0xMjM0NQ==';
export const CSRF = 'csrf_7b1f0c2e9a';

export const usdOrder: OrderSummaryView = {
  merchantOrderId: 'NO-10482',
  currency: 'USD',
  products: [
    { name: 'Trail Runner GTX', quantity: 1, unitPrice: 12900 },
    { name: 'Merino socks', quantity: 2, unitPrice: 1800 },
  ],
  subtotal: 16500,
  discounts: [{ description: 'Spring sale', amount: 2000 }],
  taxes: [{ description: 'Sales tax', amount: 1196 }],
  shipping: 495,
  total: 16191,
};

export function checkoutModel(overrides: Partial<CheckoutPageModel> = {}): CheckoutPageModel {
  return {
    locale: 'EN',
    livemode: false,
    merchant: { displayName: 'Nordlys Outdoor', primaryColor: '#0f766e' },
    order: usdOrder,
    methods: [{ type: 'card', brands: ['visa', 'mastercard'] }, { type: 'invoice' }, { type: 'wallet' }],
    csrfToken: CSRF,
    payAction: '/c/chk_123/sig/pay',
    cancelAction: '/c/chk_123/sig/cancel',
    nonce: NONCE,
    assetBase: '/public',
    ...overrides,
  };
}

export type Tag = { name: string; attributes: Map<string, string>; source: string };

/**
 * Every tag in a rendered page. Valid because of the pages' invariant: text and attribute values are
 * escaped, so each `<` starts a real tag and each `"` delimits a real attribute value. If escaping ever
 * failed, an injected tag or attribute would show up here as a real one.
 */
export function listTags(html: string): Tag[] {
  const tags: Tag[] = [];
  for (const match of html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)) {
    const attributes = new Map<string, string>();
    const rest = match[2] ?? '';
    for (const attribute of rest.matchAll(/([^\s"'=/>]+)(?:\s*=\s*(?:"([^"]*)"|([^\s>]+)))?/g)) {
      attributes.set(attribute[1]!.toLowerCase(), attribute[2] ?? attribute[3] ?? '');
    }
    tags.push({ name: match[1]!.toLowerCase(), attributes, source: match[0] });
  }
  return tags;
}

/** The markup of each <form>…</form> (the pages never nest forms). */
export function listForms(html: string): string[] {
  return [...html.matchAll(/<form\b[\s\S]*?<\/form>/g)].map((match) => match[0]);
}

/** The opening tag of the element with this id. */
export function findById(html: string, id: string): Tag | undefined {
  return listTags(html).find((tag) => tag.attributes.get('id') === id);
}

/** Text content between an element's opening tag (found by id) and the next `<`. */
export function textOf(html: string, id: string): string | undefined {
  const tag = findById(html, id);
  if (!tag) return undefined;
  const start = html.indexOf(tag.source) + tag.source.length;
  return html.slice(start, html.indexOf('<', start)).trim();
}
