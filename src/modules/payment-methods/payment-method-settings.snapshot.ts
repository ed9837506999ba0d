import type { PaymentMethodSetting } from './eligibility.ts';
import { PAYMENT_METHOD_TYPES } from './eligibility.ts';
import { toSetting, type SettingFields } from './payment-method-settings.repository.ts';

/**
 * A merchant's payment-method settings read as one JSON column of a bigger query, so a page or an API call
 * that needs a checkout AND its merchant's settings costs one database round trip instead of two or three.
 *
 * `paymentMethodSettingsJson(merchantId, livemode)` is a scalar subquery over the settings of the mode, in the
 * order `listPaymentMethodSettings` uses (display order, then method): a JSON array, `[]` when there are none.
 * Only the fields eligibility reads travel; versions and timestamps stay in the table.
 */
export function paymentMethodSettingsJson(merchantIdColumn: string, livemodeColumn: string): string {
  return `COALESCE((
      SELECT json_agg(json_build_object(
               'method', s.method, 'enabled', s.enabled, 'countries', s.countries, 'currencies', s.currencies,
               'min_amount', s.min_amount, 'max_amount', s.max_amount, 'devices', s.devices,
               'display_order', s.display_order, 'card_brands', s.card_brands)
             ORDER BY s.display_order, s.method)
        FROM payment_method_settings s
       WHERE s.merchant_id = ${merchantIdColumn} AND s.livemode = ${livemodeColumn}), '[]'::json)`;
}

/**
 * The settings out of `paymentMethodSettingsJson`, or undefined when the merchant has not got one row per
 * method yet: the caller then goes through `getPaymentMethodSettings`, which writes the defaults first.
 */
export function settingsFromJson(json: unknown): PaymentMethodSetting[] | undefined {
  if (!Array.isArray(json) || json.length < PAYMENT_METHOD_TYPES.length) return undefined;
  return (json as SettingFields[]).map(toSetting);
}
