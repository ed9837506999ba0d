import { describe, expect, it } from 'vitest';
import { isCardLikeField, sanitizeCallbackHtml } from '../../../src/modules/callbacks/callback-html.ts';

describe('isCardLikeField', () => {
  it.each([
    ['input', { type: 'password', name: 'pw' }],
    ['input', { type: 'PASSWORD' }],
    ['input', { autocomplete: 'cc-number' }],
    ['input', { autocomplete: 'shipping cc-csc' }],
    ['select', { autocomplete: 'cc-exp-month' }],
    ['input', { name: 'cardNumber' }],
    ['input', { name: 'card_holder' }],
    ['input', { id: 'cvc' }],
    ['input', { name: 'cvv2' }],
    ['input', { name: 'expiry' }],
    ['input', { name: 'expirationDate' }],
    ['input', { name: 'exp-month' }],
    ['input', { name: 'pan' }],
    ['input', { name: 'cc_num' }],
    ['input', { name: 'security', inputmode: 'numeric', maxlength: '19' }],
    ['input', { name: 'x', inputmode: 'numeric', maxlength: '12' }],
    ['input', { name: 'x', type: 'tel', maxlength: '23' }],
    ['input', { name: 'x', type: 'number', maxlength: '3' }],
    ['textarea', { name: 'card' }],
  ])('%s %j is card-like', (tag, attribs) => {
    expect(isCardLikeField(tag, attribs)).toBe(true);
  });

  it.each([
    ['input', { type: 'email', name: 'email', autocomplete: 'email' }],
    ['input', { name: 'company' }],
    ['input', { name: 'panel' }],
    ['input', { name: 'export' }],
    ['input', { name: 'accept' }],
    ['input', { name: 'quantity', type: 'number', maxlength: '2' }],
    ['input', { name: 'zip', inputmode: 'numeric', maxlength: '5' }],
    ['input', { name: 'phone', type: 'tel', maxlength: '30' }],
    ['input', { name: 'x', inputmode: 'text', maxlength: '16' }],
    ['button', { name: 'card' }],
  ])('%s %j is not', (tag, attribs) => {
    expect(isCardLikeField(tag, attribs)).toBe(false);
  });
});

describe('sanitizeCallbackHtml', () => {
  it('drops password and card-like fields, keeps the rest of the form', () => {
    const { html } = sanitizeCallbackHtml(
      `<form method=post><input name=email><input type=password name=pw><input name=cardnumber>
       <input autocomplete=cc-csc name=c><input name=n inputmode=numeric maxlength=16><button>Go</button></form>`,
      { pageUrl: 'https://shop.test/ok', proxy: (url) => url },
    );
    expect(html).toContain('<input name="email">');
    expect(html).toContain('<button>Go</button>');
    expect(html).not.toMatch(/password|cardnumber|name="c"|name="n"/);
  });
});
