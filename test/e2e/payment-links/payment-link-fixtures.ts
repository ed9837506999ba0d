import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import type { TestApp, TestMerchant } from '../../fixtures/test-app.ts';

/** A small valid payment link request; `extra` overrides or adds options. */
export function linkRequest(extra: Record<string, unknown> = {}) {
  return {
    completed_redirect_url: 'https://shop.example/done',
    canceled_redirect_url: 'https://shop.example/cancel',
    order: {
      merchant_order_id: 'link-order-1',
      currency: 'EUR',
      country_code: 'FI',
      subtotal_amount: 2_500,
      total_amount: 2_500,
      products: [{ id: 'sku-1', name: 'Concert ticket', quantity: 1, unit_price: 2_500 }],
    },
    ...extra,
  };
}

export type PaymentLinkJson = {
  payment_link_id: string;
  object: 'payment_link';
  url: string;
  qr_code?: string;
  qr_svg_url: string;
  status: string;
  usage: string;
  max_completions: number;
  completions: number;
  expires_at: string;
  first_opened_at: string | null;
  completable_until: string | null;
  livemode: boolean;
  version: number;
} & Record<string, unknown>;

export async function createLink(
  testApp: TestApp,
  merchant: TestMerchant,
  body: unknown = linkRequest(),
): Promise<PaymentLinkJson> {
  const response = await testApp.app.inject({
    method: 'POST',
    url: '/v1/payment-links',
    headers: merchant.headers,
    payload: body as object,
  });
  if (response.statusCode !== 201)
    throw new Error(`create payment link: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** The path (and query) of an absolute URL of the app under test, for `inject`. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

/** Opens the link like a browser would (GET, no redirect following). */
export function openLink(testApp: TestApp, link: { url: string }) {
  return testApp.app.inject({ method: 'GET', url: pathOf(link.url) });
}

/** The checkout id of a `/pay/{checkout_id}/{signature}` location. */
export function checkoutIdOf(location: string): string {
  const match = /\/pay\/(chk_[0-9a-f]{44})\/[0-9a-f]{64}$/.exec(new URL(location).pathname);
  if (!match) throw new Error(`not a payment page URL: ${location}`);
  return match[1]!;
}

/** Pays a checkout through the Processor API with the sandbox's approved test card. */
export async function payWithApprovedCard(testApp: TestApp, merchant: TestMerchant, checkoutId: string) {
  const response = await testApp.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: merchant.headers,
    payload: {
      checkout_id: checkoutId,
      payment_method: {
        type: 'card',
        card: {
          number: '4242 4242 4242 4242',
          exp_month: 12,
          exp_year: 2040,
          cvc: '123',
          holder_name: 'Ada Lovelace',
        },
      },
    },
  });
  if (response.statusCode !== 201) throw new Error(`pay: ${response.statusCode} ${response.body}`);
  return response.json() as { status: string };
}

/** Decodes the QR code in a PNG data URL. */
export function decodeQrDataUrl(dataUrl: string): string | undefined {
  const prefix = 'data:image/png;base64,';
  if (!dataUrl.startsWith(prefix)) throw new Error(`not a PNG data URL: ${dataUrl.slice(0, 40)}`);
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(prefix.length), 'base64'));
  // jsqr is CommonJS: under NodeNext its default import is module.exports, which carries `.default` too.
  return jsQRModule.default(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

export async function countCheckoutsOfLink(testApp: TestApp, linkId: string): Promise<number> {
  const { rows } = await testApp.database.db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM checkouts WHERE payment_link_id = $1',
    [linkId],
  );
  return rows[0]!.count;
}

export async function eventsOf(testApp: TestApp, objectId: string) {
  const { rows } = await testApp.database.db.query<{
    type: string;
    object_version: number;
    checkout_id: string | null;
    data: Record<string, unknown>;
  }>('SELECT type, object_version, checkout_id, data FROM events WHERE object_id = $1 ORDER BY seq', [
    objectId,
  ]);
  return rows;
}
