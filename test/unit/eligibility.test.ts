import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HIDING_RULES,
  PAYMENT_METHOD_TYPES,
  defaultPaymentMethodSettings,
  detectDevice,
  evaluatePaymentMethods,
  type EligibilityContext,
  type PaymentMethodSetting,
} from '../../src/modules/payment-methods/eligibility.ts';

/** A Danish desktop checkout of 500.00 DKK: every default method but wallet is eligible. */
const danishDesktop: EligibilityContext = {
  country: 'DK',
  currency: 'DKK',
  amount: 50_000,
  device: 'desktop',
  allowedMethods: null,
};

function openSetting(method: PaymentMethodSetting['method'], display_order: number): PaymentMethodSetting {
  return {
    method,
    enabled: true,
    countries: null,
    currencies: null,
    min_amount: null,
    max_amount: null,
    devices: null,
    display_order,
  };
}

/** The hidden entry for one method (methods without settings are hidden too, as not_configured). */
function hiddenEntry(settings: PaymentMethodSetting[], context: EligibilityContext, method: string) {
  return evaluatePaymentMethods(settings, context).hidden.find((entry) => entry.method === method);
}

function hiddenRules(settings: PaymentMethodSetting[], context: EligibilityContext) {
  return evaluatePaymentMethods(settings, context).hidden.map(({ method, rule }) => [method, rule]);
}

describe('evaluatePaymentMethods with the default settings', () => {
  it('offers card and invoice in Denmark on desktop, and hides wallet for the device', () => {
    const result = evaluatePaymentMethods(defaultPaymentMethodSettings(), danishDesktop);
    expect(result.eligible.map((s) => s.method)).toEqual(['card', 'invoice']);
    expect(result.hidden).toEqual([
      {
        method: 'wallet',
        rule: 'device',
        message: 'wallet is offered only on mobile; this shopper is on desktop',
      },
    ]);
  });

  it('offers everything in Denmark on mobile', () => {
    const result = evaluatePaymentMethods(defaultPaymentMethodSettings(), {
      ...danishDesktop,
      device: 'mobile',
    });
    expect(result.eligible.map((s) => s.method)).toEqual(['card', 'invoice', 'wallet']);
    expect(result.hidden).toEqual([]);
  });

  it('hides invoice for the the redirect-checkout flow checkout (Mexico, MXN) by country, the first rule it fails', () => {
    const result = evaluatePaymentMethods(defaultPaymentMethodSettings(), {
      country: 'MX',
      currency: 'MXN',
      amount: 990,
      device: 'mobile',
      allowedMethods: null,
    });
    expect(result.eligible.map((s) => s.method)).toEqual(['card', 'wallet']);
    expect(result.hidden).toEqual([
      {
        method: 'invoice',
        rule: 'country',
        message: 'invoice is offered only in DK, SE, NO, FI, DE, AT, NL; this checkout is for MX',
      },
    ]);
  });

  it('carries the card brands on the card setting', () => {
    const card = evaluatePaymentMethods(defaultPaymentMethodSettings(), danishDesktop).eligible[0];
    expect(card?.card_brands).toEqual([
      'visa',
      'mastercard',
      'amex',
      'discover',
      'jcb',
      'diners',
      'unionpay',
      'maestro',
    ]);
  });

  it('returns a fresh copy each time', () => {
    const first = defaultPaymentMethodSettings();
    first[0]!.enabled = false;
    first[1]!.countries!.push('MX');
    expect(defaultPaymentMethodSettings()[0]?.enabled).toBe(true);
    expect(defaultPaymentMethodSettings()[1]?.countries).not.toContain('MX');
  });
});

describe('each hiding rule', () => {
  it('not_configured: a method without settings', () => {
    const result = evaluatePaymentMethods([openSetting('card', 1)], danishDesktop);
    expect(result.hidden).toEqual([
      { method: 'invoice', rule: 'not_configured', message: 'invoice is not configured for this merchant' },
      { method: 'wallet', rule: 'not_configured', message: 'wallet is not configured for this merchant' },
    ]);
  });

  it('disabled', () => {
    const settings = [
      openSetting('card', 1),
      { ...openSetting('invoice', 2), enabled: false },
      openSetting('wallet', 3),
    ];
    expect(evaluatePaymentMethods(settings, danishDesktop).hidden).toEqual([
      { method: 'invoice', rule: 'disabled', message: 'invoice is disabled in the payment method settings' },
    ]);
  });

  it('not_allowed_by_checkout: the checkout restricts payment_methods', () => {
    const settings = PAYMENT_METHOD_TYPES.map((method, i) => openSetting(method, i));
    const result = evaluatePaymentMethods(settings, {
      ...danishDesktop,
      allowedMethods: ['card', 'invoice'],
    });
    expect(result.eligible.map((s) => s.method)).toEqual(['card', 'invoice']);
    expect(result.hidden).toEqual([
      {
        method: 'wallet',
        rule: 'not_allowed_by_checkout',
        message: "wallet is not among this checkout's payment_methods (card, invoice)",
      },
    ]);
    expect(hiddenRules(settings, { ...danishDesktop, allowedMethods: [] })).toEqual([
      ['card', 'not_allowed_by_checkout'],
      ['invoice', 'not_allowed_by_checkout'],
      ['wallet', 'not_allowed_by_checkout'],
    ]);
  });

  it('country', () => {
    const settings = [{ ...openSetting('card', 1), countries: ['DK', 'SE'] }];
    expect(evaluatePaymentMethods(settings, { ...danishDesktop, country: 'SE' }).eligible).toHaveLength(1);
    expect(evaluatePaymentMethods(settings, { ...danishDesktop, country: 'US' }).hidden[0]).toEqual({
      method: 'card',
      rule: 'country',
      message: 'card is offered only in DK, SE; this checkout is for US',
    });
    const nowhere = [{ ...openSetting('card', 1), countries: [] }];
    expect(evaluatePaymentMethods(nowhere, danishDesktop).hidden[0]?.message).toBe(
      'card is offered only in none; this checkout is for DK',
    );
  });

  it('currency', () => {
    const settings = [{ ...openSetting('invoice', 1), currencies: ['DKK', 'EUR'] }];
    expect(evaluatePaymentMethods(settings, { ...danishDesktop, currency: 'EUR' }).eligible).toHaveLength(1);
    expect(hiddenEntry(settings, { ...danishDesktop, currency: 'USD' }, 'invoice')).toEqual({
      method: 'invoice',
      rule: 'currency',
      message: 'invoice is offered only in DKK, EUR; this checkout is in USD',
    });
  });

  it('min_amount and max_amount are inclusive bounds, explained in the checkout currency', () => {
    const settings = [{ ...openSetting('invoice', 1), min_amount: 100, max_amount: 5_000_000 }];
    const at = (amount: number) => evaluatePaymentMethods(settings, { ...danishDesktop, amount });
    expect(at(100).eligible).toHaveLength(1);
    expect(at(5_000_000).eligible).toHaveLength(1);
    expect(hiddenEntry(settings, { ...danishDesktop, amount: 99 }, 'invoice')).toEqual({
      method: 'invoice',
      rule: 'min_amount',
      message: 'invoice needs an amount of at least 100 (DKK 1.00); this checkout is for 99 (DKK 0.99)',
    });
    expect(hiddenEntry(settings, { ...danishDesktop, amount: 5_000_001 }, 'invoice')?.rule).toBe(
      'max_amount',
    );
    expect(hiddenEntry(settings, { ...danishDesktop, amount: 5_000_001 }, 'invoice')?.message).toBe(
      'invoice is offered up to 5000000 (DKK 50,000.00); this checkout is for 5000001 (DKK 50,000.01)',
    );
  });

  it('amount messages follow the currency exponent (JPY 0, KWD 3)', () => {
    const settings = [{ ...openSetting('card', 1), min_amount: 1000 }];
    expect(
      evaluatePaymentMethods(settings, { ...danishDesktop, currency: 'JPY', amount: 999 }).hidden[0]?.message,
    ).toBe('card needs an amount of at least 1000 (¥1,000); this checkout is for 999 (¥999)');
    expect(
      evaluatePaymentMethods(settings, {
        ...danishDesktop,
        currency: 'KWD',
        amount: 999,
      }).hidden[0]?.message,
    ).toBe('card needs an amount of at least 1000 (KWD 1.000); this checkout is for 999 (KWD 0.999)');
  });

  it('device', () => {
    const settings = [{ ...openSetting('wallet', 1), devices: ['mobile' as const] }];
    expect(evaluatePaymentMethods(settings, { ...danishDesktop, device: 'mobile' }).eligible).toHaveLength(1);
    expect(hiddenEntry(settings, danishDesktop, 'wallet')).toEqual({
      method: 'wallet',
      rule: 'device',
      message: 'wallet is offered only on mobile; this shopper is on desktop',
    });
  });

  it('names the FIRST failing rule when several fail', () => {
    const strict: PaymentMethodSetting = {
      ...openSetting('invoice', 1),
      enabled: false,
      countries: ['SE'],
      currencies: ['SEK'],
      min_amount: 10_000_000,
      max_amount: 1,
      devices: ['mobile'],
    };
    const context: EligibilityContext = { ...danishDesktop, allowedMethods: ['card'] };
    expect(hiddenRules([strict], context)[1]).toEqual(['invoice', 'disabled']);
    expect(hiddenRules([{ ...strict, enabled: true }], context)[1]).toEqual([
      'invoice',
      'not_allowed_by_checkout',
    ]);
    const allowed = { ...context, allowedMethods: null };
    expect(hiddenRules([{ ...strict, enabled: true }], allowed)[1]).toEqual(['invoice', 'country']);
    expect(hiddenRules([{ ...strict, enabled: true, countries: null }], allowed)[1]).toEqual([
      'invoice',
      'currency',
    ]);
    expect(
      hiddenRules([{ ...strict, enabled: true, countries: null, currencies: null }], allowed)[1],
    ).toEqual(['invoice', 'min_amount']);
    expect(
      hiddenRules(
        [{ ...strict, enabled: true, countries: null, currencies: null, min_amount: null }],
        allowed,
      )[1],
    ).toEqual(['invoice', 'max_amount']);
    expect(
      hiddenRules(
        [{ ...strict, enabled: true, countries: null, currencies: null, min_amount: null, max_amount: null }],
        allowed,
      )[1],
    ).toEqual(['invoice', 'device']);
  });
});

describe('ordering and totality', () => {
  it('sorts eligible methods by display_order, then by name', () => {
    const settings = [openSetting('card', 5), openSetting('wallet', 1), openSetting('invoice', 5)];
    expect(evaluatePaymentMethods(settings, danishDesktop).eligible.map((s) => s.method)).toEqual([
      'wallet',
      'card',
      'invoice',
    ]);
  });

  it('uses the first entry when a method is listed twice', () => {
    const settings = [openSetting('card', 1), { ...openSetting('card', 2), enabled: false }];
    expect(evaluatePaymentMethods(settings, danishDesktop).eligible).toEqual([settings[0]]);
  });

  it('accounts for every method exactly once, whatever the settings and context (property)', () => {
    const setting = fc.record({
      method: fc.constantFrom(...PAYMENT_METHOD_TYPES),
      enabled: fc.boolean(),
      countries: fc.option(fc.subarray(['DK', 'SE', 'MX', 'US'])),
      currencies: fc.option(fc.subarray(['DKK', 'SEK', 'MXN', 'USD'])),
      min_amount: fc.option(fc.nat(10_000)),
      max_amount: fc.option(fc.nat(10_000)),
      devices: fc.option(fc.subarray(['desktop', 'mobile'] as const)),
      display_order: fc.integer({ min: -5, max: 5 }),
    });
    const context = fc.record({
      country: fc.constantFrom('DK', 'SE', 'MX', 'US'),
      currency: fc.constantFrom('DKK', 'SEK', 'MXN', 'USD'),
      amount: fc.nat(10_000),
      device: fc.constantFrom('desktop' as const, 'mobile' as const),
      allowedMethods: fc.option(fc.subarray([...PAYMENT_METHOD_TYPES])),
    });
    fc.assert(
      fc.property(fc.array(setting, { maxLength: 5 }), context, (settings, ctx) => {
        const { eligible, hidden } = evaluatePaymentMethods(settings, ctx);
        const seen = [...eligible.map((s) => s.method), ...hidden.map((h) => h.method)].sort();
        expect(seen).toEqual([...PAYMENT_METHOD_TYPES].sort());
        for (const h of hidden) expect(HIDING_RULES).toContain(h.rule);
        for (const s of eligible) {
          expect(s.enabled).toBe(true);
          expect(ctx.allowedMethods === null || ctx.allowedMethods.includes(s.method)).toBe(true);
          expect(s.countries === null || s.countries.includes(ctx.country)).toBe(true);
          expect(s.currencies === null || s.currencies.includes(ctx.currency)).toBe(true);
          expect(s.min_amount === null || ctx.amount >= s.min_amount).toBe(true);
          expect(s.max_amount === null || ctx.amount <= s.max_amount).toBe(true);
          expect(s.devices === null || s.devices.includes(ctx.device)).toBe(true);
        }
        for (let i = 1; i < eligible.length; i++) {
          expect(eligible[i - 1]!.display_order).toBeLessThanOrEqual(eligible[i]!.display_order);
        }
      }),
    );
  });
});

describe('detectDevice', () => {
  it.each([
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
    ],
    [
      'Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
    ],
    ['Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'],
    ['Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0'],
    [
      'Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54',
    ],
  ])('mobile: %s', (userAgent) => {
    expect(detectDevice(userAgent)).toBe('mobile');
  });

  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0'],
    ['curl/8.5.0'],
    [''],
  ])('desktop: %s', (userAgent) => {
    expect(detectDevice(userAgent)).toBe('desktop');
  });

  it('treats a missing User-Agent as desktop', () => {
    expect(detectDevice(undefined)).toBe('desktop');
  });
});
