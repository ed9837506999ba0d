import type { Device, PaymentMethodSetting, PaymentMethodType } from './eligibility.ts';
import { PAYMENT_METHOD_TYPES } from './eligibility.ts';

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

type SettingJson = {
  method: PaymentMethodType;
  enabled: boolean;
  countries: string[] | null;
  currencies: string[] | null;
  min_amount: number | null;
  max_amount: number | null;
  devices: Device[] | null;
  display_order: number;
  card_brands: string[] | null;
};

/**
 * The settings out of `paymentMethodSettingsJson`, or undefined when the merchant has not got one row per
 * method yet: the caller then goes through `getPaymentMethodSettings`, which writes the defaults first.
 */
export function settingsFromJson(json: unknown): PaymentMethodSetting[] | undefined {
  if (!Array.isArray(json) || json.length < PAYMENT_METHOD_TYPES.length) return undefined;
  return (json as SettingJson[]).map((row) => ({
    method: row.method,
    enabled: row.enabled,
    countries: row.countries,
    currencies: row.currencies,
    min_amount: row.min_amount,
    max_amount: row.max_amount,
    devices: row.devices,
    display_order: row.display_order,
    ...(row.card_brands === null ? {} : { card_brands: row.card_brands }),
  }));
}
