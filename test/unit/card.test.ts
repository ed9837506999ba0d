import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  cardFingerprint,
  cardLast4,
  checkCardExpiry,
  checkCvc,
  detectCardBrand,
  normalizeCardNumber,
  passesLuhn,
} from '../../src/lib/card.ts';

/** Appends the Luhn check digit to a partial number (written independently of `passesLuhn`). */
function withCheckDigit(partial: string): string {
  const digits = [...partial].map(Number).reverse();
  const sum = digits.reduce((acc, digit, index) => {
    if (index % 2 === 1) return acc + digit;
    const doubled = digit * 2;
    return acc + (doubled > 9 ? doubled - 9 : doubled);
  }, 0);
  return partial + String((10 - (sum % 10)) % 10);
}

describe('normalizeCardNumber', () => {
  it('strips spaces and dashes', () => {
    expect(normalizeCardNumber('4242 4242 4242 4242')).toBe('4242424242424242');
    expect(normalizeCardNumber('4242-4242-4242-4242')).toBe('4242424242424242');
    expect(normalizeCardNumber(' 3782 822463 10005 ')).toBe('378282246310005');
  });

  it('refuses anything that is not digits', () => {
    expect(normalizeCardNumber('4242 4242 4242 424a')).toBeNull();
    expect(normalizeCardNumber('4242.4242.4242.4242')).toBeNull();
    expect(normalizeCardNumber('')).toBeNull();
    expect(normalizeCardNumber('   ')).toBeNull();
    expect(normalizeCardNumber('４２４２４２４２４２４２４２４２')).toBeNull(); // full-width digits
  });

  it('refuses lengths no card has', () => {
    expect(normalizeCardNumber('42424242424')).toBeNull(); // 11
    expect(normalizeCardNumber('42424242424242424242')).toBeNull(); // 20
    expect(normalizeCardNumber('424242424242')).toBe('424242424242'); // 12
  });
});

describe('passesLuhn', () => {
  it('accepts the documented test cards', () => {
    for (const number of [
      '4242424242424242',
      '4000000000000002',
      '4000000000009995',
      '4000000000003220',
      '4000000000000119',
      '4000000000000259',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
    ]) {
      expect(passesLuhn(number), number).toBe(true);
    }
  });

  it('rejects a single wrong digit', () => {
    expect(passesLuhn('4242424242424241')).toBe(false);
    expect(passesLuhn('4000000000000003')).toBe(false);
    expect(passesLuhn('42a2424242424242')).toBe(false);
    expect(passesLuhn('')).toBe(false);
  });

  it('accepts every number with a correct check digit and rejects every other last digit', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{11,18}$/), fc.integer({ min: 1, max: 9 }), (partial, shift) => {
        const valid = withCheckDigit(partial);
        expect(passesLuhn(valid)).toBe(true);
        const wrongLast = String((Number(valid.at(-1)) + shift) % 10);
        expect(passesLuhn(valid.slice(0, -1) + wrongLast)).toBe(false);
      }),
    );
  });
});

describe('detectCardBrand', () => {
  it.each([
    ['4242424242424242', 'visa'],
    ['4000 0000 0000 3220', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['2720990000000007', 'mastercard'],
    ['378282246310005', 'amex'],
    ['371449635398431', 'amex'],
    ['6011111111111117', 'discover'],
    ['6445644564456445', 'discover'],
    ['6500000000000002', 'discover'],
    ['3056930009020004', 'diners'],
    ['36227206271667', 'diners'],
    ['3566002020360505', 'jcb'],
    ['6200000000000005', 'unionpay'],
    ['8100000000000000', 'unionpay'],
    ['6759649826438453', 'maestro'],
    ['5018000000000009', 'maestro'],
    ['6304000000000000', 'maestro'],
  ])('%s is %s', (number, brand) => {
    expect(detectCardBrand(number)).toBe(brand);
  });

  it('answers unknown for unassigned ranges and non-digits', () => {
    expect(detectCardBrand('1234567812345670')).toBe('unknown');
    expect(detectCardBrand('2220990000000000')).toBe('unknown'); // just below Mastercard's 2-series
    expect(detectCardBrand('2721000000000000')).toBe('unknown'); // just above it
    expect(detectCardBrand('3527000000000000')).toBe('unknown'); // just below JCB
    expect(detectCardBrand('')).toBe('unknown');
    expect(detectCardBrand('visa')).toBe('unknown');
  });
});

describe('checkCardExpiry', () => {
  const now = new Date('2026-03-15T12:00:00Z');

  it('accepts MM/YY, MM / YY, MM/YYYY and MMYY', () => {
    expect(checkCardExpiry('12/30', now)).toEqual({ ok: true, month: 12, year: 2030 });
    expect(checkCardExpiry('04 / 27', now)).toEqual({ ok: true, month: 4, year: 2027 });
    expect(checkCardExpiry('4/2027', now)).toEqual({ ok: true, month: 4, year: 2027 });
    expect(checkCardExpiry('0427', now)).toEqual({ ok: true, month: 4, year: 2027 });
  });

  it('accepts a month and a year', () => {
    expect(checkCardExpiry({ month: 3, year: 2026 }, now)).toEqual({ ok: true, month: 3, year: 2026 });
    expect(checkCardExpiry({ month: 3, year: 26 }, now)).toEqual({ ok: true, month: 3, year: 2026 });
  });

  it('treats the card as valid through the end of its month, in UTC', () => {
    expect(checkCardExpiry('03/26', new Date('2026-03-31T23:59:59Z')).ok).toBe(true);
    expect(checkCardExpiry('03/26', new Date('2026-04-01T00:00:00Z'))).toMatchObject({
      ok: false,
      reason: 'expired',
    });
  });

  it('refuses an expired card', () => {
    expect(checkCardExpiry('02/26', now)).toMatchObject({ ok: false, reason: 'expired' });
    expect(checkCardExpiry('12/25', now)).toMatchObject({ ok: false, reason: 'expired' });
    expect(checkCardExpiry({ month: 1, year: 1999 }, now)).toMatchObject({ ok: false, reason: 'expired' });
  });

  it('refuses an impossible month', () => {
    expect(checkCardExpiry('13/30', now)).toMatchObject({ ok: false, reason: 'invalid_month' });
    expect(checkCardExpiry('00/30', now)).toMatchObject({ ok: false, reason: 'invalid_month' });
    expect(checkCardExpiry({ month: 0, year: 2030 }, now)).toMatchObject({
      ok: false,
      reason: 'invalid_month',
    });
  });

  it('refuses what is not a date, or too far ahead', () => {
    for (const input of ['', '12', '12/3', 'ab/cd', '12/30/1', '123', '1/2/3']) {
      expect(checkCardExpiry(input, now), input).toMatchObject({ ok: false, reason: 'invalid_format' });
    }
    expect(checkCardExpiry({ month: 1.5, year: 2030 }, now)).toMatchObject({ reason: 'invalid_format' });
    expect(checkCardExpiry('12/2099', now)).toMatchObject({ ok: false, reason: 'invalid_year' });
  });

  it('gives a human message with every refusal', () => {
    const result = checkCardExpiry('01/20', now);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toBe('This card has expired');
  });
});

describe('checkCvc', () => {
  it('wants three digits for most brands', () => {
    expect(checkCvc('123', 'visa')).toEqual({ ok: true });
    expect(checkCvc('123', 'unknown')).toEqual({ ok: true });
    expect(checkCvc('1234', 'visa')).toMatchObject({ ok: false, reason: 'invalid_cvc' });
    expect(checkCvc('12', 'mastercard')).toMatchObject({ ok: false, reason: 'invalid_cvc' });
    expect(checkCvc('12a', 'visa')).toMatchObject({ ok: false, reason: 'invalid_cvc' });
  });

  it('wants four digits for Amex', () => {
    expect(checkCvc('1234', 'amex')).toEqual({ ok: true });
    const result = checkCvc('123', 'amex');
    expect(result).toMatchObject({ ok: false, reason: 'invalid_cvc' });
    if (!result.ok) expect(result.message).toContain('4 digits');
  });
});

describe('cardLast4', () => {
  it('keeps only the last four digits', () => {
    expect(cardLast4('4242 4242 4242 4241')).toBe('4241');
    expect(cardLast4('378282246310005')).toBe('0005');
  });
});

describe('cardFingerprint', () => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef');

  it('is the keyed HMAC-SHA256 of the digits, so spacing does not matter', () => {
    const plain = cardFingerprint('4242424242424242', key);
    expect(plain).toMatch(/^[0-9a-f]{64}$/);
    expect(cardFingerprint('4242 4242 4242 4242', key)).toBe(plain);
    expect(cardFingerprint('4242-4242-4242-4242', key.toString('utf8'))).toBe(plain);
  });

  it('differs per card and per key, and never contains the number', () => {
    const a = cardFingerprint('4242424242424242', key);
    expect(cardFingerprint('4000000000000002', key)).not.toBe(a);
    expect(cardFingerprint('4242424242424242', 'another key')).not.toBe(a);
    expect(a).not.toContain('4242424242424242');
  });
});
