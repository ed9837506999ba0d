import type { TestApp, TestMerchant } from '../../fixtures/test-app.ts';
import {
  checkoutRequest,
  createCheckout,
  simpleOrder,
  type CheckoutJson,
} from '../checkouts/checkout-fixtures.ts';

/** Helpers for the payment tests: a checkout, paid through the Processor API, then managed. */

export const TEST_CARDS = {
  approved: '4242424242424242',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  threeDSecure: '4000000000003220',
  processorError: '4000000000000119',
  pending: '4000000000000259',
} as const;

export const COUNTRY_OF: Record<string, string> = {
  JPY: 'JP',
  USD: 'US',
  KWD: 'KW',
  EUR: 'DE',
  MXN: 'MX',
  DKK: 'DK',
};

export function cardMethod(number: string = TEST_CARDS.approved, overrides: Record<string, unknown> = {}) {
  return {
    type: 'card',
    card: { number, exp_month: 12, exp_year: 2034, cvc: '123', holder_name: 'Ada Lovelace', ...overrides },
  };
}

export type PaymentJson = {
  object: 'payment';
  id: string;
  status: string;
  processing: boolean;
  amount: number;
  currency: string;
  authorized_amount: number;
  captured_amount: number;
  refunded_amount: number;
  decline_code: string | null;
  next_action: { type: 'redirect'; url: string } | null;
  card: { brand: string; last4: string; exp_month: number; exp_year: number } | null;
  order_id: string;
  checkout_id: string;
  channel: string;
  version: number;
} & Record<string, unknown>;

export type MoneyOperationJson = {
  id: string;
  object: 'capture' | 'refund';
  payment_id: string;
  amount: number;
  currency: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  payment: PaymentJson;
} & Record<string, unknown>;

export async function createPaymentCheckout(
  testApp: TestApp,
  merchant: TestMerchant,
  options: {
    currency?: string;
    amount?: number;
    capture?: 'automatic' | 'manual';
    merchantOrderId?: string;
    customerEmail?: string;
  } = {},
): Promise<CheckoutJson> {
  const currency = options.currency ?? 'USD';
  const order: Record<string, unknown> = simpleOrder(
    currency,
    COUNTRY_OF[currency] ?? 'US',
    options.amount ?? 1000,
    options.merchantOrderId,
  );
  if (options.customerEmail)
    order.customer = { email: options.customerEmail, first_name: 'Ada', last_name: 'Lovelace' };
  return createCheckout(
    testApp,
    merchant,
    checkoutRequest(order, { capture_mode: options.capture ?? 'manual' }),
  );
}

export async function payByApi(
  testApp: TestApp,
  merchant: TestMerchant,
  checkoutId: string,
  paymentMethod: unknown = cardMethod(),
  headers: Record<string, string> = {},
) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/payments',
    headers: { ...merchant.headers, ...headers },
    payload: { checkout_id: checkoutId, payment_method: paymentMethod } as object,
  });
}

/** A fresh checkout paid by the approved test card: AUTHORIZED (manual) or SUCCEEDED (automatic). */
export async function authorizedPayment(
  testApp: TestApp,
  merchant: TestMerchant,
  options: { currency?: string; amount?: number; capture?: 'automatic' | 'manual' } = {},
): Promise<PaymentJson> {
  const checkout = await createPaymentCheckout(testApp, merchant, options);
  const response = await payByApi(testApp, merchant, checkout.checkout_id);
  if (response.statusCode !== 201) throw new Error(`pay: ${response.statusCode} ${response.body}`);
  return response.json();
}

export function post(
  testApp: TestApp,
  merchant: TestMerchant,
  url: string,
  payload?: object,
  headers: Record<string, string> = {},
) {
  return testApp.app.inject({
    method: 'POST',
    url,
    headers: { ...merchant.headers, ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
}

export function get(testApp: TestApp, merchant: TestMerchant, url: string) {
  return testApp.app.inject({ method: 'GET', url, headers: merchant.headers });
}

/** Events written for a payment in the order they were written (`seq`: one transaction writes several). */
export async function paymentEvents(testApp: TestApp, paymentId: string) {
  const { rows } = await testApp.database.db.query<{
    type: string;
    data: Record<string, unknown>;
    object_id: string;
  }>(`SELECT type, data, object_id FROM events WHERE payment_id = $1 ORDER BY seq`, [paymentId]);
  return rows;
}

/** What Kassa's child rows say: Σ of SUCCEEDED and of PENDING captures / refunds. */
export async function kassaTotals(testApp: TestApp, paymentId: string) {
  const sum = async (table: 'captures' | 'refunds', status: string) => {
    const { rows } = await testApp.database.db.query<{ total: number }>(
      `SELECT COALESCE(sum(amount), 0)::bigint AS total FROM ${table} WHERE payment_id = $1 AND status = $2`,
      [paymentId, status],
    );
    return rows[0]!.total;
  };
  return {
    captured: await sum('captures', 'SUCCEEDED'),
    refunded: await sum('refunds', 'SUCCEEDED'),
    pendingCaptures: await sum('captures', 'PENDING'),
    pendingRefunds: await sum('refunds', 'PENDING'),
  };
}

/** What the sandbox "bank" did for a payment: Σ of succeeded captures and refunds in its own ledger. */
export async function sandboxTotals(testApp: TestApp, paymentId: string) {
  const operations = await testApp.services.sandbox.listOperations({ paymentId });
  const total = (kind: string) =>
    operations
      .filter((op) => op.kind === kind && op.outcome === 'succeeded')
      .reduce((sum, op) => sum + (op.amount ?? 0), 0);
  return {
    captured: total('capture'),
    refunded: total('refund'),
    captureCalls: operations.filter((op) => op.kind === 'capture').length,
    refundCalls: operations.filter((op) => op.kind === 'refund').length,
    voids: operations.filter((op) => op.kind === 'void' && op.outcome === 'succeeded').length,
  };
}
