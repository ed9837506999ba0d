/**
 * Which payment methods a checkout may offer (docs/checkouts.md, AltaPay's "terminal settings").
 *
 * A merchant configures, per method, whether it is enabled and the rules it is offered under: countries,
 * currencies, an amount range and devices. For one checkout, every method either passes every rule and is
 * shown, or is hidden by exactly one rule: the first one it fails, in the fixed order of `HIDING_RULES`. That
 * rule and a sentence explaining it answer "why is this method not shown" (`?explain=true`).
 *
 * Pure: no I/O, no clock. Amounts are minor units of the checkout's currency.
 */
import { formatMoney } from '../../lib/money.ts';
import { isCurrencyCode } from '../../lib/currencies.ts';

export const PAYMENT_METHOD_TYPES = ['card', 'invoice', 'wallet'] as const;
export type PaymentMethodType = (typeof PAYMENT_METHOD_TYPES)[number];

export const DEVICES = ['desktop', 'mobile'] as const;
export type Device = (typeof DEVICES)[number];

export type PaymentMethodSetting = {
  method: PaymentMethodType;
  enabled: boolean;
  /** ISO 3166-1 alpha-2 codes the method is offered in; null = every country. */
  countries: string[] | null;
  /** ISO 4217 codes the method is offered in; null = every currency. */
  currencies: string[] | null;
  /** Inclusive bounds in minor units of the checkout's currency; null = no bound. */
  min_amount: number | null;
  max_amount: number | null;
  /** null = every device. */
  devices: Device[] | null;
  /** Lower comes first. */
  display_order: number;
  /** Card only: the brands accepted (visa, mastercard, …). */
  card_brands?: string[];
};

export type EligibilityContext = {
  /** The order's country (ISO 3166-1 alpha-2). */
  country: string;
  /** The order's currency (ISO 4217). */
  currency: string;
  /** The amount to pay, in minor units of `currency`. */
  amount: number;
  device: Device;
  /** The checkout's own `payment_methods` restriction; null = no restriction. */
  allowedMethods: readonly PaymentMethodType[] | null;
  /**
   * The methods some processor account of the checkout's mode takes in its currency; null or absent = every
   * method (test mode, where the sandbox takes what no account does).
   */
  processorMethods?: ReadonlySet<PaymentMethodType> | null;
};

/** Every reason a method can be hidden, in the order they are tried. */
export const HIDING_RULES = [
  'not_configured',
  'disabled',
  'not_allowed_by_checkout',
  'country',
  'currency',
  'min_amount',
  'max_amount',
  'device',
  'no_processor',
] as const;
export type HidingRule = (typeof HIDING_RULES)[number];

export type HiddenPaymentMethod = { method: PaymentMethodType; rule: HidingRule; message: string };

export type EligibilityResult = {
  /** Sorted by display_order, then method name. */
  eligible: PaymentMethodSetting[];
  /** One entry per method not shown, in the order of PAYMENT_METHOD_TYPES. */
  hidden: HiddenPaymentMethod[];
};

/**
 * Evaluates every known method against the merchant's settings and the checkout. If the settings list a method
 * twice, the first entry counts (the settings store is expected to keep one row per method).
 */
export function evaluatePaymentMethods(
  settings: readonly PaymentMethodSetting[],
  context: EligibilityContext,
): EligibilityResult {
  const eligible: PaymentMethodSetting[] = [];
  const hidden: HiddenPaymentMethod[] = [];
  for (const method of PAYMENT_METHOD_TYPES) {
    const setting = settings.find((candidate) => candidate.method === method);
    const refusal = setting
      ? findHidingRule(setting, context)
      : { rule: 'not_configured' as const, message: `${method} is not configured for this merchant` };
    if (refusal) hidden.push({ method, ...refusal });
    else if (setting) eligible.push(setting);
  }
  eligible.sort((a, b) => a.display_order - b.display_order || a.method.localeCompare(b.method));
  return { eligible, hidden };
}

/** The first rule `setting` fails for `context`, with its explanation; null when the method may be shown. */
function findHidingRule(
  setting: PaymentMethodSetting,
  context: EligibilityContext,
): { rule: HidingRule; message: string } | null {
  const { method } = setting;
  const country = context.country.toUpperCase();
  const currency = context.currency.toUpperCase();

  if (!setting.enabled) {
    return { rule: 'disabled', message: `${method} is disabled in the payment method settings` };
  }
  if (context.allowedMethods !== null && !context.allowedMethods.includes(method)) {
    return {
      rule: 'not_allowed_by_checkout',
      message: `${method} is not among this checkout's payment_methods (${listOrNone(context.allowedMethods)})`,
    };
  }
  if (setting.countries !== null && !setting.countries.some((c) => c.toUpperCase() === country)) {
    return {
      rule: 'country',
      message: `${method} is offered only in ${listOrNone(setting.countries)}; this checkout is for ${country}`,
    };
  }
  if (setting.currencies !== null && !setting.currencies.some((c) => c.toUpperCase() === currency)) {
    return {
      rule: 'currency',
      message: `${method} is offered only in ${listOrNone(setting.currencies)}; this checkout is in ${currency}`,
    };
  }
  if (setting.min_amount !== null && context.amount < setting.min_amount) {
    return {
      rule: 'min_amount',
      message: `${method} needs an amount of at least ${describeAmount(setting.min_amount, currency)}; this checkout is for ${describeAmount(context.amount, currency)}`,
    };
  }
  if (setting.max_amount !== null && context.amount > setting.max_amount) {
    return {
      rule: 'max_amount',
      message: `${method} is offered up to ${describeAmount(setting.max_amount, currency)}; this checkout is for ${describeAmount(context.amount, currency)}`,
    };
  }
  if (setting.devices !== null && !setting.devices.includes(context.device)) {
    return {
      rule: 'device',
      message: `${method} is offered only on ${listOrNone(setting.devices)}; this shopper is on ${context.device}`,
    };
  }
  if (context.processorMethods && !context.processorMethods.has(method)) {
    return {
      rule: 'no_processor',
      message: `no enabled live processor account takes ${method} in ${currency}`,
    };
  }
  return null;
}

function listOrNone(values: readonly string[]): string {
  return values.length > 0 ? values.join(', ') : 'none';
}

/** "5000 (DKK 50.00)": the raw minor units a developer configured, and what they mean. */
function describeAmount(amountMinor: number, currency: string): string {
  if (!isCurrencyCode(currency) || !Number.isSafeInteger(amountMinor)) return `${amountMinor} ${currency}`;
  // Intl separates symbol and number with no-break spaces; an API message reads better with plain ones.
  return `${amountMinor} (${formatMoney(amountMinor, currency, 'en').replace(/[\u00a0\u202f]/g, ' ')})`;
}

/** A fresh copy of the settings a new merchant starts with. */
export function defaultPaymentMethodSettings(): PaymentMethodSetting[] {
  return [
    {
      method: 'card',
      enabled: true,
      countries: null,
      currencies: null,
      min_amount: null,
      max_amount: null,
      devices: null,
      display_order: 1,
      card_brands: ['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'maestro'],
    },
    {
      // Pay later, as Nordic and German-speaking invoice providers offer it: local currencies, bounded amounts.
      method: 'invoice',
      enabled: true,
      countries: ['DK', 'SE', 'NO', 'FI', 'DE', 'AT', 'NL'],
      currencies: ['DKK', 'SEK', 'NOK', 'EUR'],
      min_amount: 100,
      max_amount: 5_000_000,
      devices: null,
      display_order: 2,
    },
    {
      // A redirect to an approval app: only useful where that app is installed.
      method: 'wallet',
      enabled: true,
      countries: null,
      currencies: null,
      min_amount: null,
      max_amount: null,
      devices: ['mobile'],
      display_order: 3,
    },
  ];
}

/**
 * Handheld browsers announce themselves in the User-Agent: "Mobi" is the token Mozilla recommends checking
 * (Firefox and Chrome on phones send it), Android covers Android tablets, the Apple tokens cover iOS browsers,
 * and the rest are older phone browsers. Tablets count as mobile: they are where wallet apps live.
 * Known blind spot: iPadOS Safari asks for desktop sites and sends a Macintosh User-Agent, so it reads as
 * desktop; server-side detection cannot tell it apart. A missing header means desktop (the safe default: a
 * card form works everywhere).
 */
const MOBILE_USER_AGENT =
  /Mobi|Android|iPhone|iPad|iPod|Windows Phone|IEMobile|BlackBerry|BB10|Opera Mini|Kindle|Silk/i;

export function detectDevice(userAgent: string | undefined): Device {
  return userAgent !== undefined && MOBILE_USER_AGENT.test(userAgent) ? 'mobile' : 'desktop';
}
