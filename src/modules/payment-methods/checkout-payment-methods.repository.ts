import type { Queryable } from '../../db/client.ts';
import type { CheckoutStatus } from '../checkouts/checkout.states.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { PaymentMethodSetting, PaymentMethodType } from './eligibility.ts';
import { paymentMethodSettingsJson, settingsFromJson } from './payment-method-settings.snapshot.ts';

/**
 * What `GET /v1/checkouts/{id}/payment-methods` needs, in ONE statement: the session's status and own method
 * restriction, the order's country, currency and total, and the merchant's settings for the mode. Scoped to
 * the caller's merchant and mode like every merchant query (another merchant's checkout reads as missing).
 */
export type CheckoutForEligibility = {
  status: CheckoutStatus;
  allowedMethods: PaymentMethodType[] | null;
  country: string;
  currency: string;
  amount: number;
  /** Undefined when the merchant's settings were never initialised (see `settingsFromJson`). */
  settings: PaymentMethodSetting[] | undefined;
};

type Row = {
  status: CheckoutStatus;
  payment_methods: PaymentMethodType[] | null;
  country_code: string;
  currency: string;
  total_amount: number;
  payment_method_settings: unknown;
};

const SELECT_CHECKOUT_FOR_ELIGIBILITY = `
  SELECT c.status, c.payment_methods, o.country_code, o.currency, o.total_amount,
         ${paymentMethodSettingsJson('c.merchant_id', 'c.livemode')} AS payment_method_settings
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
    settings: settingsFromJson(row.payment_method_settings),
  };
}
