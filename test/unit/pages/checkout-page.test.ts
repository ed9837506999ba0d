import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderCheckoutPage } from '../../../src/http/pages/checkout-page.ts';
import type { CheckoutFormValues } from '../../../src/http/pages/checkout-page.ts';
import { CSRF, NONCE, checkoutModel, findById, listForms, listTags, textOf } from './page-fixtures.ts';

const XSS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)' x='",
  '</title><script>alert(1)</script>',
  '<svg/onload=alert(1)>',
  '`${alert(1)}`',
];

describe('checkout page: card form', () => {
  const page = renderCheckoutPage(checkoutModel());

  it.each([
    ['card-name', 'Name on card', 'cc-name', 'card_name', false],
    ['card-number', 'Card number', 'cc-number', 'card_number', true],
    ['card-expiry', 'Expiry (MM/YY)', 'cc-exp', 'card_expiry', true],
    ['card-cvc', 'CVC', 'cc-csc', 'card_cvc', true],
  ])('#%s is labelled "%s" with autocomplete %s', (id, label, autocomplete, name, numeric) => {
    const input = findById(page, id)!;
    expect(input.name).toBe('input');
    expect(input.attributes.get('autocomplete')).toBe(autocomplete);
    expect(input.attributes.get('name')).toBe(name);
    expect(input.attributes.get('inputmode')).toBe(numeric ? 'numeric' : undefined);
    // No `required`: with JavaScript off the browser would then refuse an invoice payment.
    expect(input.attributes.has('required')).toBe(false);
    const labelTag = listTags(page).find((tag) => tag.name === 'label' && tag.attributes.get('for') === id)!;
    expect(page).toContain(`${labelTag.source}${label}</label>`);
  });

  it('lists the eligible methods as radio buttons with descriptions and accepted brands', () => {
    const radios = listTags(page).filter((tag) => tag.attributes.get('type') === 'radio');
    expect(radios.map((r) => r.attributes.get('value'))).toEqual(['card', 'invoice', 'wallet']);
    expect(radios.map((r) => r.attributes.get('name'))).toEqual([
      'payment_method',
      'payment_method',
      'payment_method',
    ]);
    expect(radios.filter((r) => r.attributes.has('checked')).map((r) => r.attributes.get('value'))).toEqual([
      'card',
    ]);
    expect(page).toContain('Pay with a credit or debit card.');
    expect(page).toContain('Pay later. You will receive an invoice.');
    // Accepted brands as marks a screen reader reads by name.
    const marks = listTags(page).filter((t) => t.name === 'svg' && t.attributes.has('data-brand-mark'));
    expect(marks.map((t) => [t.attributes.get('role'), t.attributes.get('aria-label')])).toEqual(
      expect.arrayContaining([
        ['img', 'Visa'],
        ['img', 'Mastercard'],
      ]),
    );
  });

  it('checks the selected method, and leaves card fields out when card is not eligible', () => {
    const invoiceFirst = renderCheckoutPage(checkoutModel({ selectedMethod: 'wallet' }));
    const checked = listTags(invoiceFirst).filter(
      (t) => t.attributes.get('type') === 'radio' && t.attributes.has('checked'),
    );
    expect(checked.map((t) => t.attributes.get('value'))).toEqual(['wallet']);
    const noCard = renderCheckoutPage(checkoutModel({ methods: [{ type: 'invoice' }] }));
    expect(findById(noCard, 'card-number')).toBeUndefined();
  });

  it('renders the Pay button with the formatted total and a POST cancel form', () => {
    // One label per method; the stylesheet shows the checked method's (card here).
    expect(page).toMatch(/class="pay-label pay-label--card pay-label--initial"\s*>Pay \$161\.91<\/span/);
    expect(page).toMatch(
      /class="pay-label pay-label--invoice"\s*>Place order, pay \$161\.91 by invoice<\/span/,
    );
    const forms = listForms(page);
    expect(forms).toHaveLength(2);
    const cancel = listTags(forms[1]!)[0]!;
    expect(cancel.attributes.get('method')).toBe('post');
    expect(cancel.attributes.get('action')).toBe('/c/chk_123/sig/cancel');
    expect(forms[1]).toContain('Cancel and return to the store');
    expect(listTags(forms[0]!)[0]!.attributes.get('action')).toBe('/c/chk_123/sig/pay');
  });

  it('puts the CSRF token in every form', () => {
    for (const form of listForms(page)) {
      const hidden = listTags(form).filter((t) => t.attributes.get('name') === 'csrf_token');
      expect(hidden).toHaveLength(1);
      expect(hidden[0]!.attributes.get('type')).toBe('hidden');
      expect(hidden[0]!.attributes.get('value')).toBe(CSRF);
    }
  });

  it('shows no payment form, only a notice and Cancel, when no method is eligible', () => {
    const none = renderCheckoutPage(checkoutModel({ methods: [] }));
    expect(none).toContain('No payment method is available for this order.');
    expect(listForms(none)).toHaveLength(1);
  });
});

/** Whitespace between tags carries no meaning here (Prettier formats the templates); drop it for matching. */
const squash = (page: string) => page.replace(/>\s+</g, '><');

describe('checkout page: order summary and money', () => {
  it('shows products as quantity × unit price, discounts, taxes, shipping and the total', () => {
    const page = squash(renderCheckoutPage(checkoutModel()));
    expect(page).toContain('2 × $18.00');
    expect(page).toContain('$36.00');
    expect(page).toMatch(/<dt>Spring sale<\/dt><dd>-\$20\.00<\/dd>/);
    expect(page).toMatch(/<dt>Sales tax<\/dt><dd>\$11\.96<\/dd>/);
    expect(page).toMatch(/<dt>Shipping<\/dt><dd>\$4\.95<\/dd>/);
    expect(page).toMatch(/<dt>Total<\/dt><dd>\$161\.91<\/dd>/);
    expect(page).toContain('Order NO-10482');
  });

  it('formats JPY without decimals', () => {
    const page = squash(
      renderCheckoutPage(
        checkoutModel({
          order: {
            merchantOrderId: 'KY-1',
            currency: 'JPY',
            products: [{ name: 'Tea', quantity: 1, unitPrice: 1000 }],
            subtotal: 1000,
            discounts: [],
            taxes: [],
            shipping: 0,
            total: 1000,
          },
        }),
      ),
    );
    expect(page).toContain('Pay ¥1,000<');
    expect(page).toMatch(/<dt>Total<\/dt><dd>¥1,000<\/dd>/);
    expect(page).not.toMatch(/¥1,000\.\d/);
    expect(page).not.toContain('Shipping');
  });

  it('formats KWD with three decimals, in English and in Danish', () => {
    const order = {
      merchantOrderId: 'KW-1',
      currency: 'KWD',
      products: [{ name: 'Dates', quantity: 1, unitPrice: 1500 }],
      subtotal: 1500,
      discounts: [],
      taxes: [],
      shipping: 0,
      total: 1500,
    };
    expect(renderCheckoutPage(checkoutModel({ order }))).toMatch(/Pay KWD\s1\.500</);
    expect(renderCheckoutPage(checkoutModel({ order, locale: 'da-DK' }))).toMatch(/Betal 1,500\sKWD</);
  });
});

describe('checkout page: languages', () => {
  it.each([
    [
      'EN',
      'en',
      [
        'Name on card',
        'Card number',
        'Expiry (MM/YY)',
        'CVC',
        'Pay $161.91',
        'Cancel and return to the store',
      ],
    ],
    [
      'es-MX',
      'es-419',
      [
        'Nombre en la tarjeta',
        'Número de tarjeta',
        'Vencimiento',
        'Pagar USD 161.91',
        'Cancelar y volver a la tienda',
      ],
    ],
    ['ES_LATAM', 'es-419', ['Nombre en la tarjeta', 'Método de pago', 'Resumen del pedido']],
    [
      'da-DK',
      'da',
      [
        'Navn på kortet',
        'Kortnummer',
        'Udløbsdato',
        'Betal 161,91 US$',
        'Annuller og vend tilbage til butikken',
      ],
    ],
    ['DA', 'da', ['Betalingsmetode', 'Ordreoversigt', 'I alt']],
    ['de-DE', 'de', ['Name auf der Karte', 'Kartennummer', 'Ablaufdatum', '161,91 USD bezahlen']],
    ['fr', 'fr', ['Nom sur la carte', 'Numéro de carte', 'Date d’expiration', 'Payer 161,91 $US']],
    ['pt-BR', 'pt-BR', ['Nome no cartão', 'Número do cartão', 'Validade', 'Pagar US$ 161,91']],
  ])('%s renders lang="%s" and translated text', (locale, lang, texts) => {
    const page = renderCheckoutPage(checkoutModel({ locale }));
    expect(
      listTags(page)
        .find((t) => t.name === 'html')!
        .attributes.get('lang'),
    ).toBe(lang);
    for (const text of texts) expect(page.replace(/\u00a0/g, ' ')).toContain(text);
  });

  it('formats the local currency the local way', () => {
    const mxn = { ...checkoutModel().order, currency: 'MXN' };
    expect(renderCheckoutPage(checkoutModel({ locale: 'es-MX', order: mxn }))).toContain('Pagar $161.91');
    const dkk = { ...checkoutModel().order, currency: 'DKK' };
    expect(renderCheckoutPage(checkoutModel({ locale: 'DA', order: dkk })).replace(/\u00a0/g, ' ')).toContain(
      'Betal 161,91 kr.',
    );
  });
});

describe('checkout page: errors', () => {
  const page = renderCheckoutPage(
    checkoutModel({
      locale: 'EN',
      globalError: 'declined',
      fieldErrors: { cardNumber: 'invalid', cardExpiry: 'expired', paymentMethod: 'required' },
      values: { cardName: 'Ada Lovelace', cardExpiry: '12/20' },
    }),
  );

  it('marks invalid fields with aria-invalid and points aria-describedby at the message', () => {
    const number = findById(page, 'card-number')!;
    expect(number.attributes.get('aria-invalid')).toBe('true');
    expect(number.attributes.get('aria-describedby')).toBe('card-number-error');
    expect(textOf(page, 'card-number-error')).toBe('The card number is not valid.');
    expect(findById(page, 'card-number-error')!.attributes.has('hidden')).toBe(false);
    const cvc = findById(page, 'card-cvc')!;
    expect(cvc.attributes.has('aria-invalid')).toBe(false);
    expect(cvc.attributes.get('aria-describedby')).toBe('card-cvc-hint');
    expect(findById(page, 'card-cvc-error')!.attributes.has('hidden')).toBe(true);
    expect(findById(page, 'payment-method-0')!.attributes.get('aria-invalid')).toBe('true');
  });

  it('summarises the errors in a role="alert" region, global error first', () => {
    const summary = findById(page, 'error-summary')!;
    expect(summary.attributes.get('role')).toBe('alert');
    expect(summary.attributes.has('hidden')).toBe(false);
    const start = page.indexOf(summary.source);
    const region = page.slice(start, page.indexOf('data-live-region', start));
    expect(region).toContain('Your card was declined. Try again or choose another method.');
    expect(region).toContain('<a href="#card-number">The card number is not valid.</a>');
    expect(region).toContain('<a href="#card-expiry">This card has expired.</a>');
    expect(region.indexOf('declined')).toBeLessThan(region.indexOf('card-number'));
  });

  it('keeps the summary hidden when there is nothing to report', () => {
    expect(findById(renderCheckoutPage(checkoutModel()), 'error-summary')!.attributes.has('hidden')).toBe(
      true,
    );
  });

  it('echoes the name and expiry the shopper typed', () => {
    expect(findById(page, 'card-name')!.attributes.get('value')).toBe('Ada Lovelace');
    expect(findById(page, 'card-expiry')!.attributes.get('value')).toBe('12/20');
  });

  it('gives checkout.js the messages in the page language', () => {
    const es = renderCheckoutPage(checkoutModel({ locale: 'ES_LATAM' }));
    const number = findById(es, 'card-number')!;
    expect(number.attributes.get('data-msg-invalid')).toBe('El número de tarjeta no es válido.');
    expect(findById(es, 'card-expiry')!.attributes.get('data-msg-expired')).toBe(
      'Esta tarjeta está vencida.',
    );
    const form = listTags(es).find((t) => t.attributes.has('data-checkout-form'))!;
    expect(form.attributes.get('data-msg-summary')).toBe('Revisa los campos marcados.');
    const pay = listTags(es).find((t) => t.attributes.has('data-processing-label'))!;
    expect(pay.attributes.get('data-processing-label')).toBe('Procesando…');
  });
});

describe('checkout page: card data never reaches the HTML', () => {
  const PAN = '4242424242424242';

  it('ignores a card number and CVC passed in values by mistake', () => {
    const values = {
      cardName: 'Ada',
      cardExpiry: '12/30',
      cardNumber: PAN,
      cardCvc: '731',
      number: PAN,
      cvc: '731',
    };
    const page = renderCheckoutPage(checkoutModel({ values: values as CheckoutFormValues }));
    expect(page).not.toContain(PAN);
    expect(page).not.toContain('731');
    expect(findById(page, 'card-number')!.attributes.has('value')).toBe(false);
    expect(findById(page, 'card-cvc')!.attributes.has('value')).toBe(false);
  });

  it('does not echo a card number typed into the name or expiry field', () => {
    const page = renderCheckoutPage(
      checkoutModel({ values: { cardName: '4242 4242 4242 4242', cardExpiry: '4242424242424242' } }),
    );
    expect(page.replace(/[\s-]/g, '')).not.toContain(PAN);
    expect(findById(page, 'card-name')!.attributes.has('value')).toBe(false);
    expect(findById(page, 'card-expiry')!.attributes.has('value')).toBe(false);
  });

  it('for any name containing a card-number-like digit run, echoes fewer than 8 digits', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 10 }),
        fc.stringMatching(/^\d{12,19}$/),
        fc.constantFrom('', ' ', '-', '  '),
        fc.string({ maxLength: 10 }),
        (before, digits, separator, after) => {
          const name = `${before}${digits.match(/.{1,4}/g)!.join(separator)}${after}`;
          const page = renderCheckoutPage(checkoutModel({ values: { cardName: name } }));
          const echoed = findById(page, 'card-name')!.attributes.get('value') ?? '';
          expect((echoed.match(/\d/g) ?? []).length).toBeLessThan(8);
          expect(page.replace(/[\s-]/g, '')).not.toContain(digits);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('checkout page: escaping and CSP compatibility', () => {
  it.each(XSS)('escapes %s wherever model text is rendered', (payload) => {
    const page = renderCheckoutPage(
      checkoutModel({
        merchant: { displayName: payload, logoUrl: payload, primaryColor: payload },
        order: {
          ...checkoutModel().order,
          merchantOrderId: payload,
          products: [{ name: payload, quantity: 1, unitPrice: 16500 }],
          discounts: [{ description: payload, amount: 2000 }],
          taxes: [{ description: payload, amount: 1196 }],
        },
        values: { cardName: payload, cardExpiry: payload },
        csrfToken: payload,
        payAction: payload,
        cancelAction: payload,
        assetBase: payload,
      }),
    );
    const tags = listTags(page);
    expect(tags.filter((t) => t.name === 'script')).toHaveLength(1);
    expect(tags.filter((t) => t.name === 'img')).toHaveLength(0); // the payload is not a safe logo URL
    // No attribute the payloads try to inject (event handlers, `x`, `style`) exists on any tag.
    // (`x` is legitimate only on the icons' SVG <rect>.)
    const attributes = tags.flatMap((t) =>
      [...t.attributes.keys()].filter((a) => t.name !== 'rect' || a !== 'x'),
    );
    expect(attributes.filter((a) => a.startsWith('on') || a === 'x' || a === 'style')).toEqual([]);
    // The theme <style> only ever holds sanitized colours (an invalid one falls back to the default).
    expect(page).toMatch(
      /<style nonce="[^"]+">\s*:root\{--brand:#[0-9a-f]{6};--on-brand:#[0-9a-f]{6};--accent:#[0-9a-f]{6}\}\s*<\/style>/,
    );
  });

  it('renders a valid logo URL as a decorative image', () => {
    const page = renderCheckoutPage(
      checkoutModel({ merchant: { displayName: 'Shop', logoUrl: 'https://cdn.example/logo.png?a=1&b=2' } }),
    );
    const img = listTags(page).find((t) => t.name === 'img')!;
    expect(img.attributes.get('src')).toBe('https://cdn.example/logo.png?a=1&amp;b=2');
    expect(img.attributes.get('alt')).toBe('');
  });

  it('uses no inline script, inline handler or style attribute, and nonces its script and style', () => {
    const page = renderCheckoutPage(
      checkoutModel({ fieldErrors: { cardCvc: 'invalid' }, globalError: 'declined' }),
    );
    const tags = listTags(page);
    for (const tag of tags) {
      expect([...tag.attributes.keys()].filter((name) => name.startsWith('on') || name === 'style')).toEqual(
        [],
      );
    }
    const scripts = tags.filter((t) => t.name === 'script');
    expect(scripts.map((s) => [s.attributes.get('src'), s.attributes.get('nonce')])).toEqual([
      ['/public/checkout/checkout.js', NONCE],
    ]);
    expect(page).toMatch(/<script [^>]*><\/script>/); // empty: the code lives in the file
    expect(tags.filter((t) => t.name === 'style').map((s) => s.attributes.get('nonce'))).toEqual([NONCE]);
    expect(page).not.toMatch(/javascript:/i);
  });

  it('is a complete document with a viewport and a title', () => {
    const page = renderCheckoutPage(checkoutModel());
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1" />');
    expect(page).toContain('<title>Pay Nordlys Outdoor</title>');
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
  });
});
