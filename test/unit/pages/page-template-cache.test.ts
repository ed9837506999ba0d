import { describe, expect, it } from 'vitest';
import {
  renderCheckoutPage,
  renderCheckoutPageWith,
  type CheckoutPageContent,
} from '../../../src/http/pages/checkout-page.ts';
import { createPageTemplateCache } from '../../../src/http/pages/page-template-cache.ts';
import { createCspNonce } from '../../../src/http/pages/page-security.ts';
import { checkoutModel } from './page-fixtures.ts';

function contentOf(overrides: Parameters<typeof checkoutModel>[0] = {}): CheckoutPageContent {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { nonce, csrfToken, ...content } = checkoutModel(overrides);
  return content;
}

const tokenLike = (n: number) => `${1_700_000_000 + n}.${'a'.repeat(42)}${n % 10}`;

describe('page template cache', () => {
  it('gives byte for byte what a direct render gives, with each response its own nonce and token', () => {
    const content = contentOf();
    for (let n = 0; n < 5; n++) {
      const secrets = { nonce: createCspNonce(), csrfToken: tokenLike(n) };
      const bytes = renderCheckoutPageWith(content, secrets);
      expect(bytes.equals(Buffer.from(renderCheckoutPage({ ...content, ...secrets }), 'utf8'))).toBe(true);
      const cached = bytes.toString('utf8');
      expect(cached).toContain(`nonce="${secrets.nonce}"`);
      expect(cached).toContain(`value="${secrets.csrfToken}"`);
    }
  });

  it('never serves one model the page of another', () => {
    const secrets = { nonce: createCspNonce(), csrfToken: tokenLike(1) };
    const first = contentOf();
    const other = contentOf({ methods: [{ type: 'invoice' }], globalError: 'declined' });
    renderCheckoutPageWith(first, secrets);
    expect(renderCheckoutPageWith(other, secrets).toString()).toBe(
      renderCheckoutPage({ ...other, ...secrets }),
    );
    expect(renderCheckoutPageWith(first, secrets).toString()).toBe(
      renderCheckoutPage({ ...first, ...secrets }),
    );
  });

  it('renders directly, and keeps nothing, when the page echoes what the shopper typed', () => {
    const secrets = { nonce: createCspNonce(), csrfToken: tokenLike(2) };
    const content = contentOf({ values: { cardName: 'Ada Lovelace', cardExpiry: '12/30' } });
    expect(renderCheckoutPageWith(content, secrets).toString()).toBe(
      renderCheckoutPage({ ...content, ...secrets }),
    );
  });

  it('renders once per model, evicting the least recently used beyond its bound', () => {
    const calls: string[] = [];
    const render = createPageTemplateCache<{ id: string }>(({ id }, { nonce, csrfToken }) => {
      calls.push(id);
      return `<p nonce="${nonce}">${id}</p><input value="${csrfToken}">`;
    }, 2);
    const secrets = (n: number) => ({ nonce: `nonce${n}AAAAAAAAAAAAAA==`, csrfToken: tokenLike(n) });
    expect(render({ id: 'a' }, secrets(1)).toString()).toBe(
      `<p nonce="nonce1AAAAAAAAAAAAAA==">a</p><input value="${tokenLike(1)}">`,
    );
    expect(render({ id: 'a' }, secrets(2)).toString()).toBe(
      `<p nonce="nonce2AAAAAAAAAAAAAA==">a</p><input value="${tokenLike(2)}">`,
    );
    render({ id: 'b' }, secrets(3));
    render({ id: 'a' }, secrets(4)); // a is now the most recently used
    render({ id: 'c' }, secrets(5)); // evicts b
    render({ id: 'a' }, secrets(6));
    render({ id: 'b' }, secrets(7));
    expect(calls).toEqual(['a', 'b', 'c', 'b']);
  });

  it('renders directly a value that escaping would change', () => {
    const render = createPageTemplateCache<{ id: string }>(({ id }, { nonce }) => `<b>${id}</b>${nonce}`);
    expect(render({ id: 'x' }, { nonce: '<oops>', csrfToken: 't' }).toString()).toBe('<b>x</b><oops>');
  });

  it('fills text outside Latin-1 byte for byte, on either side of the slots', () => {
    const render = createPageTemplateCache<{ id: string }>(
      ({ id }, { nonce, csrfToken }) => `…${id}<i nonce="${nonce}">ø€</i>${csrfToken}😀`,
    );
    for (let n = 0; n < 3; n++) {
      const secrets = { nonce: `nonce${n}AAAAAAAAAAAAAA==`, csrfToken: tokenLike(n) };
      const expected = `…Zoë<i nonce="${secrets.nonce}">ø€</i>${secrets.csrfToken}😀`;
      expect(render({ id: 'Zoë' }, secrets).equals(Buffer.from(expected, 'utf8'))).toBe(true);
    }
  });
});
