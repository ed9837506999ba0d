import type { Queryable, UnitOfWork } from '../../db/client.ts';
import { CARD_BRANDS } from '../../lib/card.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError, validationError, type FieldError } from '../../lib/errors.ts';
import type { CheckoutStatus } from '../checkouts/checkout.states.ts';
import type { CheckoutWithOrder, Scope } from '../checkouts/checkout.types.ts';
import {
  defaultPaymentMethodSettings,
  evaluatePaymentMethods,
  PAYMENT_METHOD_TYPES,
  type Device,
  type EligibilityResult,
  type PaymentMethodSetting,
  type PaymentMethodType,
} from './eligibility.ts';
import { findCheckoutForEligibility } from './checkout-payment-methods.repository.ts';
import type { PaymentMethodSettingsCache } from './payment-method-settings.types.ts';
import type { ConnectorRouter } from '../processor-accounts/processor-routing.ts';
import {
  findPaymentMethodSetting,
  insertMissingPaymentMethodSettings,
  listPaymentMethodSettings,
  updatePaymentMethodSettingRow,
  type PaymentMethodSettingRecord,
} from './payment-method-settings.repository.ts';

/**
 * Payment-method settings per merchant and mode (AltaPay's terminal settings). A merchant starts with
 * `defaultPaymentMethodSettings()`: they are written on first read or write, so every later change is a plain
 * update of a row with a version.
 */

/** Brands a merchant may accept; `unknown` is what detection says about anything else, not a brand to accept. */
export const ACCEPTABLE_CARD_BRANDS = CARD_BRANDS.filter((brand) => brand !== 'unknown');

export async function getPaymentMethodSettings(
  db: Queryable,
  deps: { clock: Clock },
  scope: Scope,
): Promise<PaymentMethodSettingRecord[]> {
  const settings = await listPaymentMethodSettings(db, scope);
  if (settings.length >= PAYMENT_METHOD_TYPES.length) return settings;
  await insertMissingPaymentMethodSettings(db, scope, defaultPaymentMethodSettings(), deps.clock.now());
  return listPaymentMethodSettings(db, scope);
}

/** Fields a PUT may send; omitted fields keep their value, null removes a restriction. */
export type PaymentMethodSettingChange = Partial<Omit<PaymentMethodSetting, 'method'>>;

export async function updatePaymentMethodSetting(
  tx: UnitOfWork,
  deps: { clock: Clock },
  scope: Scope,
  method: PaymentMethodType,
  change: PaymentMethodSettingChange,
): Promise<PaymentMethodSettingRecord> {
  const errors: FieldError[] = [];
  if (change.card_brands !== undefined && method !== 'card') {
    errors.push({
      pointer: '/card_brands',
      code: 'not_applicable',
      message: `must be left out for ${method}: only the card method has brands`,
    });
  }
  const now = deps.clock.now();
  await insertMissingPaymentMethodSettings(tx, scope, defaultPaymentMethodSettings(), now);
  const current = await findPaymentMethodSetting(tx, scope, method, { forUpdate: true });
  if (!current) throw new AppError('internal_error', `The ${method} setting is missing after initialisation`);
  const next: PaymentMethodSetting = {
    method,
    enabled: change.enabled ?? current.enabled,
    countries: change.countries !== undefined ? change.countries : current.countries,
    currencies: change.currencies !== undefined ? change.currencies : current.currencies,
    min_amount: change.min_amount !== undefined ? change.min_amount : current.min_amount,
    max_amount: change.max_amount !== undefined ? change.max_amount : current.max_amount,
    devices: change.devices !== undefined ? change.devices : current.devices,
    display_order: change.display_order ?? current.display_order,
    ...(method === 'card'
      ? { card_brands: change.card_brands ?? current.card_brands ?? [...ACCEPTABLE_CARD_BRANDS] }
      : {}),
  };
  if (next.min_amount !== null && next.max_amount !== null && next.min_amount > next.max_amount) {
    const pointer = change.min_amount !== undefined ? '/min_amount' : '/max_amount';
    errors.push({
      pointer,
      code: 'min_exceeds_max',
      message:
        pointer === '/min_amount'
          ? `must be at most max_amount (${next.max_amount}); got ${next.min_amount}`
          : `must be at least min_amount (${next.min_amount}); got ${next.max_amount}`,
    });
  }
  if (errors.length > 0) throw validationError(errors);

  const updated = await updatePaymentMethodSettingRow(tx, scope, next, now);
  if (!updated) throw new AppError('internal_error', `The ${method} setting could not be updated`);
  tx.emit({
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    type: 'payment_method_settings.updated',
    objectId: method,
    objectVersion: updated.version,
    data: presentPaymentMethodSetting(updated),
  });
  return updated;
}

export function presentPaymentMethodSetting(setting: PaymentMethodSettingRecord) {
  return {
    // One setting per method and mode: the method names it (docs/api-conventions.md#2-objects).
    id: setting.method,
    object: 'payment_method_setting' as const,
    method: setting.method,
    livemode: setting.livemode,
    enabled: setting.enabled,
    countries: setting.countries,
    currencies: setting.currencies,
    min_amount: setting.min_amount,
    max_amount: setting.max_amount,
    devices: setting.devices,
    display_order: setting.display_order,
    card_brands: setting.method === 'card' ? (setting.card_brands ?? [...ACCEPTABLE_CARD_BRANDS]) : null,
    version: setting.version,
    created_at: setting.createdAt.toISOString(),
    updated_at: setting.updatedAt.toISOString(),
  };
}

/** The methods one checkout may offer a shopper on `device` under the merchant's `settings`, and why the others are hidden. */
export function evaluateCheckoutPaymentMethods(
  { checkout, order }: CheckoutWithOrder,
  device: Device,
  settings: readonly PaymentMethodSetting[],
): EligibilityResult {
  return evaluatePaymentMethods(settings, {
    country: order.countryCode,
    currency: order.currency,
    amount: order.totalAmount,
    device,
    allowedMethods: checkout.paymentMethods,
  });
}

/**
 * `GET /v1/checkouts/{id}/payment-methods`: the checkout's status and the methods it may offer on `device`,
 * read in one statement (the settings come through the cache); undefined when `scope` has no such checkout.
 */
export async function evaluatePaymentMethodsOfCheckout(
  db: Queryable,
  deps: {
    paymentMethodSettings: PaymentMethodSettingsCache;
    /** Live mode: methods no processor account takes are hidden (`no_processor`). */
    connectors?: Pick<ConnectorRouter, 'routableMethods'>;
  },
  scope: Scope,
  checkoutId: string,
  device: Device,
): Promise<{ status: CheckoutStatus; result: EligibilityResult } | undefined> {
  const found = await findCheckoutForEligibility(db, scope, checkoutId);
  if (!found) return undefined;
  const settings = await deps.paymentMethodSettings.find(db, scope);
  const processorMethods = await deps.connectors?.routableMethods(db, scope, found.currency);
  return {
    status: found.status,
    result: evaluatePaymentMethods(settings, {
      country: found.country,
      currency: found.currency,
      amount: found.amount,
      device,
      allowedMethods: found.allowedMethods,
      processorMethods,
    }),
  };
}
