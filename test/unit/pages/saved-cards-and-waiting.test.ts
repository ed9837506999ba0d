import { describe, expect, it } from 'vitest';
import { renderCheckoutPage } from '../../../src/http/pages/checkout-page.ts';
import { renderStatusPage } from '../../../src/http/pages/status-page.ts';
import { NONCE, checkoutModel, findById, listTags } from './page-fixtures.ts';

const visa = {
  id: `pm_${'a'.repeat(32)}`,
  brand: 'visa' as const,
  last4: '4242',
  expMonth: 3,
  expYear: 2031,
};
const amex = {
  id: `pm_${'b'.repeat(32)}`,
  brand: 'amex' as const,
  last4: '0005',
  expMonth: 12,
  expYear: 2030,
};

function radios(page: string) {
  return listTags(page).filter((tag) => tag.name === 'input' && tag.attributes.get('type') === 'radio');
}

describe('checkout page: saved cards', () => {
  it('offers each saved card as a radio before the methods, checked first, with its expiry', () => {
    const page = renderCheckoutPage(checkoutModel({ savedCards: [visa, amex] }));
    const options = radios(page);
    expect(options.map((radio) => radio.attributes.get('value'))).toEqual([
      visa.id,
      amex.id,
      'card',
      'invoice',
      'wallet',
    ]);
    expect(options.map((radio) => radio.attributes.has('checked'))).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(options.map((radio) => radio.attributes.get('id'))).toEqual(
      [0, 1, 2, 3, 4].map((i) => `payment-method-${i}`),
    );
    expect(page).toContain('Visa •••• 4242');
    expect(page).toContain('Saved card, expires 03/31');
    expect(page).toContain('American Express •••• 0005');
  });

  it('checks the method or saved card the model asks for', () => {
    const byMethod = radios(
      renderCheckoutPage(checkoutModel({ savedCards: [visa], selectedMethod: 'invoice' })),
    );
    expect(byMethod.filter((r) => r.attributes.has('checked')).map((r) => r.attributes.get('value'))).toEqual(
      ['invoice'],
    );
    const byCard = radios(
      renderCheckoutPage(checkoutModel({ savedCards: [visa, amex], selectedSavedCardId: amex.id })),
    );
    expect(byCard.filter((r) => r.attributes.has('checked')).map((r) => r.attributes.get('value'))).toEqual([
      amex.id,
    ]);
  });

  it('shows no saved card when card is not an eligible method', () => {
    const page = renderCheckoutPage(checkoutModel({ savedCards: [visa], methods: [{ type: 'invoice' }] }));
    expect(page).not.toContain(visa.id);
  });

  it('offers "Save this card" only when asked, in the page language, ticked again after an error', () => {
    expect(findById(renderCheckoutPage(checkoutModel()), 'save-card')).toBeUndefined();
    const page = renderCheckoutPage(
      checkoutModel({ offerSaveCard: true, locale: 'DA', values: { saveCard: true } }),
    );
    const box = findById(page, 'save-card')!;
    expect(box.attributes.get('type')).toBe('checkbox');
    expect(box.attributes.get('name')).toBe('save_card');
    expect(box.attributes.has('checked')).toBe(true);
    expect(page).toContain('Gem kortet til mit næste køb');
  });
});

describe('waiting and not-found pages', () => {
  const shell = { nonce: NONCE, assetBase: '/public', livemode: true, merchant: { displayName: 'Shop' } };

  it('the processing page moves on by itself: a meta refresh without script, a background check with it', () => {
    const page = renderStatusPage({
      ...shell,
      kind: 'processing',
      locale: 'ES_LATAM',
      refresh: { seconds: 2, url: '/pay/chk_1/abc' },
    });
    const meta = listTags(page).find(
      (tag) => tag.name === 'meta' && tag.attributes.get('http-equiv') === 'refresh',
    );
    expect(meta?.attributes.get('content')).toBe('2;url=/pay/chk_1/abc');
    // Only without script: with it, checkout.js polls instead of reloading the same page every 2 s.
    expect(page).toContain('<noscript><meta http-equiv="refresh"');
    const body = listTags(page).find((tag) => tag.name === 'body');
    expect(body?.attributes.get('data-refresh-url')).toBe('/pay/chk_1/abc');
    expect(body?.attributes.get('data-refresh-seconds')).toBe('2');
    expect(page).toContain('Confirmando tu pago');
    expect(
      listTags(page)
        .filter((tag) => tag.name === 'script')
        .map((tag) => tag.attributes.get('src')),
    ).toEqual(['/public/checkout/checkout.js']);
  });

  it('refuses a refresh to anything but a same-origin path', () => {
    for (const url of [
      'https://evil.example/',
      '//evil.example/',
      '/a;url=https://evil.example',
      '/\\evil',
    ]) {
      expect(() =>
        renderStatusPage({ ...shell, kind: 'processing', locale: 'EN', refresh: { seconds: 2, url } }),
      ).toThrow(TypeError);
    }
  });

  it('the not-found pages say what was not found, in English, Spanish and Danish', () => {
    expect(renderStatusPage({ ...shell, kind: 'invalid_checkout', locale: 'EN' })).toContain(
      'This checkout link is not valid',
    );
    expect(renderStatusPage({ ...shell, kind: 'invalid_payment_link', locale: 'EN' })).toContain(
      'This payment link is not valid',
    );
    expect(renderStatusPage({ ...shell, kind: 'not_found', locale: 'EN' })).toContain('Page not found');
    expect(renderStatusPage({ ...shell, kind: 'not_found', locale: 'es-MX' })).toContain(
      'No encontramos esta página',
    );
    expect(renderStatusPage({ ...shell, kind: 'invalid_checkout', locale: 'da' })).toContain(
      'Linket til betalingssiden er ikke gyldigt',
    );
  });
});
