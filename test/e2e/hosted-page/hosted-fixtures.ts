import type { TestApp, TestMerchant } from '../../fixtures/test-app.ts';

/** Helpers for the hosted payment page tests (not a test file itself). */

export const CARDS = {
  approved: '4242424242424242',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  threeDs: '4000000000003220',
  processorError: '4000000000000119',
  pending: '4000000000000259',
  mastercard: '5555555555554444',
} as const;

export const ALL_TEST_PANS = Object.values(CARDS);
/** CVCs the tests type: distinctive, so a grep over stored data cannot match by accident. */
export const CVC = '737';
export const FUTURE_EXPIRY = '12/34';

export type CheckoutOptions = {
  currency?: string;
  country?: string;
  amount?: number;
  /** null: created without a locale (the page follows the shopper's Accept-Language). */
  locale?: string | null;
  capture?: 'automatic' | 'manual';
  completedUrl?: string;
  canceledUrl?: string;
  allowSave?: boolean;
  email?: string;
  expiresInSeconds?: number;
  merchantOrderId?: string;
  paymentMethods?: string[];
  /** `order.customer.verified`: the merchant vouches the shopper signed in (saved cards are offered only then). */
  verified?: boolean;
};

export type CreatedCheckout = {
  checkoutId: string;
  orderId: string;
  url: string;
  path: string;
  customerId: string | null;
};

export async function createHostedCheckout(
  t: TestApp,
  merchant: TestMerchant,
  options: CheckoutOptions = {},
): Promise<CreatedCheckout> {
  const amount = options.amount ?? 2500;
  const body: Record<string, unknown> = {
    completed_redirect_url: options.completedUrl ?? 'https://shop.example/complete?ref=abc',
    canceled_redirect_url: options.canceledUrl ?? 'https://shop.example/cancel',
    ...(options.locale === null ? {} : { locale: options.locale ?? 'EN' }),
    capture_mode: options.capture ?? 'automatic',
    allow_save_payment_methods: options.allowSave ?? false,
    order: {
      merchant_order_id: options.merchantOrderId ?? 'ORDER-1',
      currency: options.currency ?? 'USD',
      country_code: options.country ?? 'US',
      subtotal_amount: amount,
      total_amount: amount,
      products: [{ id: 'sku-1', name: 'Trail shoes', quantity: 1, unit_price: amount }],
      customer: {
        first_name: 'Ada',
        last_name: 'Lovelace',
        email: options.email ?? 'ada@example.com',
        ...(options.verified === undefined ? {} : { verified: options.verified }),
      },
    },
  };
  if (options.expiresInSeconds !== undefined) body.expires_in_seconds = options.expiresInSeconds;
  if (options.paymentMethods) body.payment_methods = options.paymentMethods;
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/checkouts',
    headers: merchant.headers,
    payload: body,
  });
  if (response.statusCode !== 201)
    throw new Error(`create checkout: ${response.statusCode} ${response.body}`);
  const json = response.json() as {
    checkout_id: string;
    checkout_redirect_url: string;
    order: { order_id: string; customer: { customer_id: string } | null };
  };
  return {
    checkoutId: json.checkout_id,
    orderId: json.order.order_id,
    url: json.checkout_redirect_url,
    path: new URL(json.checkout_redirect_url).pathname,
    customerId: json.order.customer?.customer_id ?? null,
  };
}

/** The CSRF token of the first form on a page. */
export function csrfOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}

export function cardForm(csrf: string, number: string = CARDS.approved, extra: Record<string, string> = {}) {
  return {
    csrf_token: csrf,
    payment_method: 'card',
    card_name: 'Ada Lovelace',
    card_number: number,
    card_expiry: FUTURE_EXPIRY,
    card_cvc: CVC,
    ...extra,
  };
}

export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** GET the page with inject and return status, headers and HTML. */
export async function getPage(t: TestApp, path: string, headers: Record<string, string> = {}) {
  const response = await t.app.inject({ method: 'GET', url: path, headers });
  return { status: response.statusCode, headers: response.headers, html: response.body };
}

export async function postForm(t: TestApp, path: string, fields: Record<string, string>) {
  const response = await t.app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: formBody(fields),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    html: response.body,
    location: response.headers.location as string | undefined,
  };
}

/** Loads the page and pays with a card in one go (the common first step of many tests). */
export async function payWithCard(
  t: TestApp,
  path: string,
  number: string = CARDS.approved,
  extra: Record<string, string> = {},
) {
  const page = await getPage(t, path);
  return postForm(t, path, cardForm(csrfOf(page.html), number, extra));
}

export async function signingSecret(t: TestApp, merchant: TestMerchant): Promise<string> {
  const response = await t.app.inject({
    method: 'GET',
    url: '/v1/merchant/signing-secret',
    headers: merchant.headers,
  });
  if (response.statusCode !== 200) throw new Error(`signing secret: ${response.statusCode} ${response.body}`);
  return (response.json() as { secret: string }).secret;
}

export async function paymentsOf(t: TestApp, checkoutId: string) {
  const { rows } = await t.services.db.query<{
    id: string;
    status: string;
    captured_amount: number;
    authorized_amount: number;
    card_last4: string | null;
    saved_payment_method_id: string | null;
    method: string;
  }>('SELECT * FROM payments WHERE checkout_id = $1 ORDER BY created_at, id', [checkoutId]);
  return rows;
}

export async function orderStatus(t: TestApp, orderId: string): Promise<string> {
  const { rows } = await t.services.db.query<{ status: string }>('SELECT status FROM orders WHERE id = $1', [
    orderId,
  ]);
  return rows[0]!.status;
}

export async function checkoutStatus(t: TestApp, checkoutId: string): Promise<string> {
  const { rows } = await t.services.db.query<{ status: string }>(
    'SELECT status FROM checkouts WHERE id = $1',
    [checkoutId],
  );
  return rows[0]!.status;
}

/** The path and query of a URL on the gateway (redirects name the public origin). */
export function localPath(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

/** Follows one of the sandbox's pages: GET it, then press the button whose hidden field carries `value`. */
export async function decideOnSandboxPage(
  t: TestApp,
  location: string,
  field: 'outcome' | 'decision',
  value: string,
) {
  const page = await getPage(t, localPath(location));
  if (page.status !== 200) throw new Error(`sandbox page: ${page.status}`);
  return postForm(t, localPath(location), { csrf_token: csrfOf(page.html), [field]: value });
}

/** Text of the error summary of a re-rendered payment page. */
export function alertOf(html: string): string | undefined {
  return /class="alert__message">([^<]*)</.exec(html)?.[1];
}

export async function countAuthorizations(t: TestApp, paymentIds?: string[]): Promise<number> {
  if (!paymentIds) return t.services.sandbox.countOperations({ kind: 'authorize' });
  let total = 0;
  for (const paymentId of paymentIds)
    total += await t.services.sandbox.countOperations({ kind: 'authorize', paymentId });
  return total;
}
