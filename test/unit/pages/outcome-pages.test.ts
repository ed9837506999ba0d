import { describe, expect, it } from 'vitest';
import { renderChallengePage } from '../../../src/http/pages/challenge-page.ts';
import type { ChallengePageModel } from '../../../src/http/pages/challenge-page.ts';
import { renderErrorPage, renderStatusPage } from '../../../src/http/pages/status-page.ts';
import type { StatusPageModel } from '../../../src/http/pages/status-page.ts';
import { renderWalletPage } from '../../../src/http/pages/wallet-page.ts';
import type { WalletPageModel } from '../../../src/http/pages/wallet-page.ts';
import { CSRF, NONCE, listForms, listTags } from './page-fixtures.ts';

const shell = { nonce: NONCE, assetBase: '/public' };

function challenge(overrides: Partial<ChallengePageModel> = {}): string {
  return renderChallengePage({
    ...shell,
    locale: 'EN',
    merchant: { displayName: 'Nordlys Outdoor' },
    amount: { amountMinor: 16191, currency: 'USD' },
    card: { brand: 'visa', last4: '3220' },
    action: '/c/chk_1/sig/3ds',
    csrfToken: CSRF,
    ...overrides,
  });
}

function wallet(overrides: Partial<WalletPageModel> = {}): string {
  return renderWalletPage({
    ...shell,
    locale: 'EN',
    merchant: { displayName: 'Nordlys Outdoor' },
    amount: { amountMinor: 1000, currency: 'JPY' },
    merchantOrderId: 'NO-1',
    action: '/c/chk_1/sig/wallet',
    csrfToken: CSRF,
    ...overrides,
  });
}

function status(overrides: Partial<StatusPageModel> = {}): string {
  return renderStatusPage({
    ...shell,
    kind: 'completed',
    locale: 'EN',
    livemode: true,
    merchant: { displayName: 'Nordlys Outdoor' },
    merchantOrderId: 'NO-10482',
    amount: { amountMinor: 16191, currency: 'USD' },
    returnUrl: 'https://shop.example/orders/NO-10482',
    ...overrides,
  });
}

/** Each form posts to `action`, carries the CSRF token once, and the hidden `field` with one of `values`. */
function expectPostForms(page: string, action: string, field: string, values: string[]) {
  const forms = listForms(page);
  expect(forms).toHaveLength(values.length);
  forms.forEach((form, index) => {
    const tags = listTags(form);
    expect(tags[0]!.attributes.get('method')).toBe('post');
    expect(tags[0]!.attributes.get('action')).toBe(action);
    const csrf = tags.filter((t) => t.attributes.get('name') === 'csrf_token');
    expect(csrf.map((t) => [t.attributes.get('type'), t.attributes.get('value')])).toEqual([
      ['hidden', CSRF],
    ]);
    expect(tags.find((t) => t.attributes.get('name') === field)!.attributes.get('value')).toBe(values[index]);
  });
}

describe('3-D Secure challenge page', () => {
  it('offers Complete / Fail authentication as POST forms with the CSRF token', () => {
    const page = challenge();
    expectPostForms(page, '/c/chk_1/sig/3ds', 'outcome', ['complete', 'fail']);
    expect(page).toContain('>Complete authentication</button>');
    expect(page).toContain('>Fail authentication</button>');
  });

  it('shows the merchant, the amount and the masked card, marked as a test', () => {
    const page = challenge();
    expect(page).toContain('<dd>$161.91</dd>');
    expect(page).toContain('<dd>Visa •••• 3220</dd>');
    expect(page).toContain('Test mode');
  });

  it('does not show a "last4" that is not four digits', () => {
    const page = challenge({ card: { brand: 'visa', last4: '4242424242424242' } });
    expect(page).not.toContain('4242');
  });

  it('is translated', () => {
    const page = challenge({ locale: 'es-MX' });
    expect(page).toContain('lang="es-419"');
    expect(page).toContain('>Completar autenticación</button>');
  });
});

describe('sandbox wallet page', () => {
  it('offers Approve / Decline as POST forms with the CSRF token', () => {
    const page = wallet();
    expectPostForms(page, '/c/chk_1/sig/wallet', 'decision', ['approve', 'decline']);
    expect(page).toContain('>Approve</button>');
    expect(page).toContain('>Decline</button>');
    expect(page).toContain('<dd>¥1,000</dd>');
  });

  it('is translated', () => {
    const page = wallet({ locale: 'DA' });
    expect(page).toContain('>Godkend</button>');
    expect(page).toContain('>Afvis</button>');
  });
});

describe('status pages', () => {
  it.each([
    ['completed', 'This order is paid'],
    ['pending', 'We are waiting for confirmation'],
    ['canceled', 'Payment canceled'],
    ['expired', 'This checkout has expired'],
  ] as const)('%s says "%s"', (kind, title) => {
    const page = status({ kind });
    expect(page).toContain(`<h1 class="panel__title">${title}</h1>`);
    expect(page).toContain('<dd>NO-10482</dd>');
    expect(listForms(page)).toEqual([]);
  });

  it('links back to the store only through an http(s) URL', () => {
    const link = (page: string) => listTags(page).find((t) => t.name === 'a');
    expect(link(status())!.attributes.get('href')).toBe('https://shop.example/orders/NO-10482');
    expect(link(status({ returnUrl: 'javascript:alert(1)' }))).toBeUndefined();
    expect(link(status({ returnUrl: undefined }))).toBeUndefined();
  });

  it('shows the test-mode badge only in test mode', () => {
    expect(status({ livemode: false })).toContain('Test mode');
    expect(status({ livemode: true })).not.toContain('Test mode');
  });

  it('is translated', () => {
    expect(status({ kind: 'pending', locale: 'ES_LATAM' })).toContain('Estamos esperando la confirmación');
    expect(status({ kind: 'canceled', locale: 'da-DK' })).toContain('Betalingen er annulleret');
  });
});

describe('callback error page', () => {
  it('shows the order number and the payment id', () => {
    const page = renderErrorPage({
      ...shell,
      locale: 'EN',
      livemode: true,
      merchant: { displayName: '<b>Shop</b>' },
      merchantOrderId: 'NO-10482',
      paymentId: 'pay_3f9c2a7e41d84b0c9e1f5a6b7c8d9e0f',
      amount: { amountMinor: 1500, currency: 'KWD' },
    });
    expect(page).toContain('We could not finish your order');
    expect(page).toContain('<dd>NO-10482</dd>');
    expect(page).toContain('<dd class="details__code">pay_3f9c2a7e41d84b0c9e1f5a6b7c8d9e0f</dd>');
    expect(page).toMatch(/<dd>KWD\s1\.500<\/dd>/);
    expect(page).toContain('&lt;b&gt;Shop&lt;/b&gt;');
    expect(page).not.toContain('<b>Shop</b>');
    expect(page).not.toContain('Your payment went through');
  });

  it('says the payment went through, with the order number and payment id, when the money was taken', () => {
    for (const [locale, title] of [
      ['EN', 'Your payment went through'],
      ['DA', 'Din betaling er gennemført'],
      ['es-MX', 'Tu pago se realizó'],
      ['de', 'Ihre Zahlung ist erfolgt'],
    ] as const) {
      const page = renderErrorPage({
        ...shell,
        locale,
        livemode: true,
        merchant: { displayName: 'Nordlys Outdoor' },
        merchantOrderId: 'NO-10482',
        paymentId: 'pay_3f9c2a7e41d84b0c9e1f5a6b7c8d9e0f',
        amount: { amountMinor: 24900, currency: 'DKK' },
        paymentSucceeded: true,
      });
      expect(page, locale).toContain(title);
      expect(page).toContain('Nordlys Outdoor');
      expect(page).toContain('<dd>NO-10482</dd>');
      expect(page).toContain('pay_3f9c2a7e41d84b0c9e1f5a6b7c8d9e0f');
      expect(page).toContain('status-icon--success');
    }
  });
});

describe('every page', () => {
  const pages = {
    challenge: challenge(),
    wallet: wallet(),
    status: status(),
  };

  it.each(Object.entries(pages))(
    '%s loads only the nonce’d checkout.js and uses no inline handlers',
    (_name, page) => {
      const tags = listTags(page);
      const scripts = tags.filter((t) => t.name === 'script');
      expect(scripts.map((s) => [s.attributes.get('src'), s.attributes.get('nonce')])).toEqual([
        ['/public/checkout/checkout.js', NONCE],
      ]);
      for (const tag of tags) {
        expect(
          [...tag.attributes.keys()].filter((name) => name.startsWith('on') || name === 'style'),
        ).toEqual([]);
      }
    },
  );
});
