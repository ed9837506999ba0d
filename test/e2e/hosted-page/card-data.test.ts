import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  CARDS,
  cardForm,
  createHostedCheckout,
  csrfOf,
  decideOnSandboxPage,
  getPage,
  localPath,
  postForm,
} from './hosted-fixtures.ts';

/**
 * docs/hosted-page.md: card numbers and CVCs are used for the processor call and never stored, logged, put in events,
 * URLs or pages after submit, or sent to merchant hosts. The flows below use every test card, then every
 * table of the database and every log line is searched for them.
 */

const AMEX = '378282246310005';
const LUHN_INVALID = '4242424242424241';
const CVC = '737';
const AMEX_CVC = '7373';
const PANS = [...Object.values(CARDS), AMEX, LUHN_INVALID];

/** The PAN as typed in several ways: digits, groups of four with spaces, and with dashes. */
function panForms(pan: string): string[] {
  const groups = pan.match(/.{1,4}/g)!;
  return [pan, groups.join(' '), groups.join('-'), groups.join('+')];
}

/** A CVC standing alone (not inside an id, a hex string, a timestamp or an amount). */
function cvcPattern(cvc: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z_.-])${cvc}(?![0-9A-Za-z_.-])`);
}

describe('card data never stored or logged', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  const pagesAfterSubmit: string[] = [];
  const redirects: string[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function pay(
    number: string,
    extra: Record<string, string> = {},
    options: Parameters<typeof createHostedCheckout>[2] = {},
  ) {
    const checkout = await createHostedCheckout(t, merchant, options);
    const page = await getPage(t, checkout.path);
    const response = await postForm(
      t,
      checkout.path,
      cardForm(csrfOf(page.html), number, { card_cvc: CVC, ...extra }),
    );
    pagesAfterSubmit.push(response.html);
    if (response.location) redirects.push(response.location);
    return { checkout, response };
  }

  it('runs every card flow', async () => {
    const email = 'cards@example.com';
    await pay(panForms(CARDS.approved)[1]!, { save_card: 'yes' }, { allowSave: true, email });
    await pay(panForms(CARDS.mastercard)[2]!, {}, { capture: 'manual' });
    await pay(AMEX, { card_cvc: AMEX_CVC });
    for (const number of [
      CARDS.declined,
      CARDS.insufficientFunds,
      CARDS.processorError,
      CARDS.pending,
      LUHN_INVALID,
    ])
      await pay(number);

    const challenge = await pay(CARDS.threeDs);
    const decided = await decideOnSandboxPage(t, challenge.response.location!, 'outcome', 'complete');
    const back = await getPage(t, localPath(decided.location!));
    redirects.push(String(back.headers.location));

    // Pay again with the saved card (no CVC sent at all).
    const next = await createHostedCheckout(t, merchant, { allowSave: true, email, verified: true });
    const page = await getPage(t, next.path);
    const savedId = /value="(pm_[0-9a-f]{44})"/.exec(page.html)![1]!;
    const withSaved = await postForm(t, next.path, {
      csrf_token: csrfOf(page.html),
      payment_method: savedId,
    });
    expect(withSaved.status).toBe(303);
    redirects.push(withSaved.location!);
    expect(redirects.length).toBeGreaterThanOrEqual(5);
  });

  it('finds no card number or CVC in any table', async () => {
    const { rows: tables } = await t.services.db.query<{ table_schema: string; table_name: string }>(
      `SELECT table_schema, table_name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const names = tables.map((table) => table.table_name);
    for (const expected of [
      'payments',
      'saved_payment_methods',
      'events',
      'sandbox_acquirer_payments',
      'sandbox_acquirer_operations',
    ]) {
      expect(names).toContain(expected);
    }
    // The CVC is searched for in the columns a typed value could land in (text and JSON). Numbers the database
    // assigns itself — a transaction id, a sequence, a version — may be 737 or 7373 by chance.
    const { rows: textColumns } = await t.services.db.query<{
      table_schema: string;
      table_name: string;
      column_name: string;
    }>(
      `SELECT table_schema, table_name, column_name FROM information_schema.columns
        WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
          AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY')`,
    );
    let rowsSearched = 0;
    for (const table of tables) {
      const textual = new Set(
        textColumns
          .filter(
            (column) => column.table_schema === table.table_schema && column.table_name === table.table_name,
          )
          .map((column) => column.column_name),
      );
      if (table.table_name === 'events')
        expect([...textual]).toEqual(expect.arrayContaining(['data', 'type']));
      const { rows } = await t.services.db.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM "${table.table_schema}"."${table.table_name}" t`,
      );
      for (const { row } of rows) {
        rowsSearched += 1;
        for (const pan of PANS)
          for (const form of panForms(pan)) expect(row, `${table.table_name}`).not.toContain(form);
        const textValues = JSON.stringify(
          Object.entries(JSON.parse(row) as Record<string, unknown>).filter(([column]) =>
            textual.has(column),
          ),
        );
        expect(textValues, table.table_name).not.toMatch(cvcPattern(CVC));
        expect(textValues, table.table_name).not.toMatch(cvcPattern(AMEX_CVC));
      }
    }
    expect(rowsSearched).toBeGreaterThan(50);
    // What is kept: brand, last 4, expiry and a keyed fingerprint.
    const { rows: payments } = await t.services.db.query<{
      card_brand: string;
      card_last4: string;
      card_fingerprint: string;
    }>("SELECT card_brand, card_last4, card_fingerprint FROM payments WHERE method = 'card'");
    expect(payments.length).toBeGreaterThanOrEqual(8);
    for (const payment of payments) {
      expect(payment.card_last4).toMatch(/^\d{4}$/);
      expect(payment.card_fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('finds no card number or CVC in the logs, the pages after submit or the redirects', () => {
    expect(t.logs.length).toBeGreaterThan(20);
    const haystacks = [...t.logs, ...pagesAfterSubmit, ...redirects];
    for (const text of haystacks) {
      for (const pan of PANS) for (const form of panForms(pan)) expect(text).not.toContain(form);
      expect(text).not.toMatch(cvcPattern(CVC));
      expect(text).not.toMatch(cvcPattern(AMEX_CVC));
    }
    for (const url of redirects)
      expect(new URL(url).hostname === 'shop.example' || new URL(url).hostname === '127.0.0.1').toBe(true);
  });
});
