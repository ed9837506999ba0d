import type { TestApp, TestMerchant } from '../../fixtures/test-app.ts';

/**
 * The redirect-checkout flow's `POST /v1/checkouts` body, as written, with its amounts read as minor units (1000 = 10.00 MXN).
 * Two substitutions the seed itself asks for or forces: the REPLACE_WITH_YOUR_… placeholders become the URLs
 * the seed's response echoes, and the e-mail — which the scraped page shows as "[email protected]", the
 * text Cloudflare's e-mail obfuscation puts in place of an address — becomes a real address.
 */
export function seedCheckoutRequest() {
  return {
    completed_redirect_url: 'https://example.com/complete',
    canceled_redirect_url: 'https://example.com/cancel',
    allow_save_payment_methods: false,
    locale: 'ES_LATAM',
    order: {
      merchant_order_id: '1366656595193',
      currency: 'MXN',
      subtotal_amount: 1000,
      country_code: 'MX',
      discounts: [{ amount: 10 }],
      total_amount: 990,
      products: [
        {
          id: '7197',
          name: 'Pantalla TCL Smart TV Serie A3 A343 HD Android TV 40',
          quantity: 1,
          unit_price: 1000,
        },
      ],
      customer: { first_name: 'John', last_name: 'Doe', email: 'john.doe@example.com' },
    },
  };
}

export type CheckoutBody = ReturnType<typeof seedCheckoutRequest> & Record<string, unknown>;

/** A small valid order in any currency: one product, no adjustments. */
export function simpleOrder(currency: string, country: string, amount: number, merchantOrderId = 'order-1') {
  return {
    merchant_order_id: merchantOrderId,
    currency,
    country_code: country,
    subtotal_amount: amount,
    total_amount: amount,
    products: [{ id: 'sku-1', name: 'Thing', quantity: 1, unit_price: amount }],
  };
}

export function checkoutRequest(order: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    completed_redirect_url: 'https://shop.example/done',
    canceled_redirect_url: 'https://shop.example/cancel',
    order,
    ...extra,
  };
}

export type CheckoutJson = {
  id: string;
  checkout_id: string;
  status: string;
  client_token?: string;
  checkout_redirect_url: string;
  expires_at: string;
  created_at: string;
  placed_at: string;
  version: number;
  payment_started: boolean;
  order: {
    id: string;
    order_id: string;
    status: string;
    total_amount: number;
    version: number;
    customer: { id: string; customer_id: string; email: string; first_name: string | null } | null;
  } & Record<string, unknown>;
} & Record<string, unknown>;

export async function createCheckout(
  testApp: TestApp,
  merchant: TestMerchant,
  body: unknown = seedCheckoutRequest(),
): Promise<CheckoutJson> {
  const response = await testApp.app.inject({
    method: 'POST',
    url: '/v1/checkouts',
    headers: merchant.headers,
    payload: body as object,
  });
  if (response.statusCode !== 201)
    throw new Error(`create checkout: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** A clock tests move by hand: expiry is tested by moving time, never by sleeping. */
export function createManualClock(start = new Date('2025-03-01T12:00:00.000Z')) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}
