import type { Queryable } from '../../db/client.ts';
import type { CheckoutStatus } from '../checkouts/checkout.states.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { PaymentMethodType } from './eligibility.ts';

/**
 * What `GET /v1/checkouts/{id}/payment-methods` needs of the checkout, in ONE statement: the session's status
 * and own method restriction, the order's country, currency and total (the merchant's settings come through
 * the settings cache). Scoped to the caller's merchant and mode like every merchant query (another merchant's
 * checkout reads as missing).
 */
export type CheckoutForEligibility = {
  status: CheckoutStatus;
  allowedMethods: PaymentMethodType[] | null;
  country: string;
  currency: string;
  amount: number;
};

type Row = {
  status: CheckoutStatus;
  payment_methods: PaymentMethodType[] | null;
  country_code: string;
  currency: string;
  total_amount: number;
};

const SELECT_CHECKOUT_FOR_ELIGIBILITY = `
  SELECT c.status, c.payment_methods, o.country_code, o.currency, o.total_amount
    FROM checkouts c
    JOIN orders o ON o.checkout_id = c.id AND o.merchant_id = c.merchant_id AND o.livemode = c.livemode
   WHERE c.id = $1 AND c.merchant_id = $2 AND c.livemode = $3`;

export async function findCheckoutForEligibility(
  db: Queryable,
  scope: Scope,
  checkoutId: string,
): Promise<CheckoutForEligibility | undefined> {
  const { rows } = await db.query<Row>(SELECT_CHECKOUT_FOR_ELIGIBILITY, [
    checkoutId,
    scope.merchantId,
    scope.livemode,
  ]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    status: row.status,
    allowedMethods: row.payment_methods,
    country: row.country_code,
    currency: row.currency,
    amount: row.total_amount,
  };
}
