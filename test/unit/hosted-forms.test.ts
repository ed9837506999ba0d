import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCheckoutForm } from '../../src/http/hosted/checkout-form.ts';
import { checkCsrfToken, issueCsrfToken } from '../../src/http/hosted/csrf-token.ts';
import { createKeyring } from '../../src/lib/keyring.ts';

const NOW = new Date('2025-03-01T12:00:00.000Z');
const keyring = createKeyring(randomBytes(32));

describe('CSRF tokens of the hosted pages', () => {
  const later = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

  it('verify for their binding only, until they are two hours old', () => {
    const token = issueCsrfToken(keyring, 'checkout:chk_a', NOW);
    expect(checkCsrfToken(keyring, 'checkout:chk_a', token, later(7200))).toBe('valid');
    expect(checkCsrfToken(keyring, 'checkout:chk_a', token, later(7201))).toBe('expired');
    expect(checkCsrfToken(keyring, 'checkout:chk_b', token, NOW)).toBe('invalid');
    expect(checkCsrfToken(createKeyring(randomBytes(32)), 'checkout:chk_a', token, NOW)).toBe('invalid');
  });

  it('refuse a changed time, a forged MAC, garbage and absence', () => {
    const token = issueCsrfToken(keyring, 'checkout:chk_a', NOW);
    const [issuedAt, mac] = token.split('.') as [string, string];
    expect(checkCsrfToken(keyring, 'checkout:chk_a', `${Number(issuedAt) + 1}.${mac}`, NOW)).toBe('invalid');
    expect(checkCsrfToken(keyring, 'checkout:chk_a', `${issuedAt}.${'A'.repeat(43)}`, NOW)).toBe('invalid');
    for (const bad of ['', 'x', undefined, 42, `${issuedAt}.${mac}x`]) {
      expect(checkCsrfToken(keyring, 'checkout:chk_a', bad, NOW)).toBe('invalid');
    }
  });

  it('refuse a token issued in the future (beyond clock skew)', () => {
    const token = issueCsrfToken(keyring, 'checkout:chk_a', later(120));
    expect(checkCsrfToken(keyring, 'checkout:chk_a', token, NOW)).toBe('invalid');
  });
});

describe('the payment form on the server', () => {
  const card = (fields: Record<string, string>) =>
    parseCheckoutForm(
      {
        payment_method: 'card',
        card_name: 'Ada Lovelace',
        card_number: '4242 4242 4242 4242',
        card_expiry: '12/30',
        card_cvc: '123',
        ...fields,
      },
      NOW,
    );

  it('accepts a valid card with MM/YY, MMYY and MM / YYYY expiries', () => {
    for (const expiry of ['12/30', '1230', '12 / 2030']) {
      const parsed = card({ card_expiry: expiry });
      expect(parsed.ok && parsed.selection).toEqual({
        type: 'card',
        card: {
          number: '4242424242424242',
          expMonth: 12,
          expYear: 2030,
          cvc: '123',
          holderName: 'Ada Lovelace',
        },
        save: false,
      });
    }
  });

  it('reports each invalid field with the code the page translates', () => {
    const parsed = card({
      card_name: '',
      card_number: '4242 4242 4242 4241',
      card_expiry: '13/30',
      card_cvc: '12',
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.fieldErrors).toEqual({
      cardName: 'required',
      cardNumber: 'invalid',
      cardExpiry: 'invalid_month',
      cardCvc: 'invalid',
    });
    expect(card({ card_expiry: '01/25' }).ok).toBe(false);
    expect(card({ card_number: '3782 822463 10005', card_cvc: '123' })).toMatchObject({
      ok: false,
      fieldErrors: { cardCvc: 'invalid' },
    });
    expect(card({ card_number: '3782 822463 10005', card_cvc: '1234' }).ok).toBe(true);
  });

  it('never puts the card number or CVC into the values echoed to the page', () => {
    const parsed = card({ card_cvc: '99' });
    expect(JSON.stringify(parsed.values)).not.toContain('4242');
    expect(JSON.stringify(parsed.values)).not.toContain('99');
  });

  it('takes other methods and saved cards without card fields, and refuses unknown methods', () => {
    expect(parseCheckoutForm({ payment_method: 'invoice' }, NOW)).toMatchObject({
      ok: true,
      selection: { type: 'invoice' },
    });
    expect(parseCheckoutForm({ payment_method: 'wallet' }, NOW)).toMatchObject({
      ok: true,
      selection: { type: 'wallet' },
    });
    const pm = `pm_${'a'.repeat(32)}`;
    expect(parseCheckoutForm({ payment_method: pm }, NOW)).toMatchObject({
      ok: true,
      selection: { type: 'saved_card', savedCardId: pm },
    });
    expect(parseCheckoutForm({ payment_method: 'bitcoin' }, NOW)).toMatchObject({
      ok: false,
      fieldErrors: { paymentMethod: 'unavailable' },
    });
    expect(parseCheckoutForm({}, NOW)).toMatchObject({
      ok: false,
      fieldErrors: { paymentMethod: 'required' },
    });
    expect(parseCheckoutForm(undefined, NOW)).toMatchObject({ ok: false });
  });

  it('reads "Save card" as ticked when present', () => {
    const parsed = card({ save_card: 'yes' });
    expect(parsed.ok && parsed.selection.type === 'card' && parsed.selection.save).toBe(true);
  });
});
