import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderChallengePage } from '../../../src/http/pages/challenge-page.ts';
import { renderCheckoutPage } from '../../../src/http/pages/checkout-page.ts';
import { renderErrorPage, renderStatusPage } from '../../../src/http/pages/status-page.ts';
import { renderWalletPage } from '../../../src/http/pages/wallet-page.ts';
import { CSRF, NONCE, checkoutModel, listTags } from './page-fixtures.ts';

// PCI DSS 6.4.3: every script a payment page loads is listed in docs/page-scripts.md with its SHA-384.
const inventory = readFileSync(new URL('../../../docs/page-scripts.md', import.meta.url), 'utf8');
const root = new URL('../../../', import.meta.url);

/** `| \`/public/…\` | … | \`sha384-…\` |` rows of the Scripts table. */
function listedScripts(): Map<string, string> {
  const section = inventory.slice(inventory.indexOf('## Scripts'), inventory.indexOf('## Other page assets'));
  const rows = [...section.matchAll(/^\| `(\/public\/[^`]+)` \|.*\| `(sha384-[A-Za-z0-9+/=]+)` \|$/gm)];
  return new Map(rows.map((row) => [row[1]!, row[2]!]));
}

describe('docs/page-scripts.md', () => {
  const shell = { nonce: NONCE, assetBase: '/public', locale: 'EN' };
  const merchant = { displayName: 'Shop' };
  const amount = { amountMinor: 100, currency: 'USD' };
  const pages = [
    renderCheckoutPage(checkoutModel()),
    renderChallengePage({ ...shell, merchant, amount, action: '/a', csrfToken: CSRF }),
    renderWalletPage({ ...shell, merchant, amount, action: '/a', csrfToken: CSRF }),
    renderStatusPage({ ...shell, kind: 'pending', livemode: true, merchant }),
    renderErrorPage({ ...shell, livemode: true, merchant, merchantOrderId: 'o', paymentId: 'pay_1' }),
  ];

  it('lists every script the hosted pages load', () => {
    const loaded = new Set(
      pages.flatMap((page) =>
        listTags(page)
          .filter((tag) => tag.name === 'script')
          .map((tag) => tag.attributes.get('src')),
      ),
    );
    expect([...loaded].sort()).toEqual([...listedScripts().keys()].sort());
  });

  it('records the SHA-384 of each script as committed', () => {
    for (const [path, integrity] of listedScripts()) {
      const file = readFileSync(new URL(`.${path}`, root));
      expect(`sha384-${createHash('sha384').update(file).digest('base64')}`, path).toBe(integrity);
    }
  });
});
