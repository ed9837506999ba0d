/**
 * Marking a payment attempt in flight is a HOT update of the session (docs/performance.md, "the session's mark
 * of a payment is a HOT update"): it changes no column an index reads, so PostgreSQL rewrites the row in place
 * and writes no index entry. `payment_started` is in the retention index's predicate, so the mark leaves the
 * stored flag alone and the repository reads "started" as the flag or an attempt in flight; whatever clears
 * the attempt folds it into the flag. The counters are the transaction's own (`pg_stat_xact_user_tables`), so
 * they do not depend on when the statistics are flushed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transaction } from '../../../src/db/client.ts';
import {
  closeCheckoutRow,
  findCheckout,
  setActivePayment,
} from '../../../src/modules/checkouts/checkout.repository.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

const MERCHANT = 'mer_hot_updates';
const SCOPE = { merchantId: MERCHANT, livemode: false };
const NOW = new Date();
let database: TestDatabase;
let sessions = 0;

/** A new OPEN session (a few small rows: its page has room for the new version of the row). */
async function openSession(): Promise<string> {
  sessions += 1;
  const id = `chk_hot_${sessions}`;
  await database.db.query(
    `INSERT INTO checkouts (id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url,
       capture, locale, client_token_sha256, expires_at, created_at, updated_at)
     VALUES ($1, $2, false, 'OPEN', 'https://shop.example/ok', 'https://shop.example/cancel', 'automatic', 'EN',
       sha256(convert_to($1::text, 'UTF8')), now() + interval '1 hour', now(), now())`,
    [id, MERCHANT],
  );
  return id;
}

/** This transaction's updates of `checkouts` so far, and how many of them were HOT. */
async function updatesSoFar(tx: Transaction): Promise<{ updates: number; hot: number }> {
  const { rows } = await tx.query<{ updates: number; hot: number }>(
    `SELECT n_tup_upd::int AS updates, n_tup_hot_upd::int AS hot FROM pg_stat_xact_user_tables
      WHERE relname = 'checkouts'`,
  );
  return rows[0]!;
}

async function storedFlag(id: string): Promise<boolean> {
  const { rows } = await database.db.query<{ payment_started: boolean }>(
    'SELECT payment_started FROM checkouts WHERE id = $1',
    [id],
  );
  return rows[0]!.payment_started;
}

beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 2 });
  await database.db.query(`INSERT INTO merchants (id, name) VALUES ($1, 'HOT updates')`, [MERCHANT]);
});
afterAll(() => database?.close());

describe("the session's mark of a payment in flight", () => {
  it('is a HOT update, and the session reads as started', async () => {
    const id = await openSession();
    const { marked, counts } = await database.db.transaction(async (tx) => {
      const marked = await setActivePayment(tx, SCOPE, id, 'pay_hot_1', NOW).result();
      return { marked, counts: await updatesSoFar(tx) };
    });
    expect(counts).toEqual({ updates: 1, hot: 1 });
    expect(marked).toMatchObject({ activePaymentId: 'pay_hot_1', paymentStarted: true });
    expect(await findCheckout(database.db, SCOPE, id)).toMatchObject({ paymentStarted: true });
    expect(await storedFlag(id)).toBe(false);
  });

  it('keeps the session started once the attempt ends without closing it (a decline)', async () => {
    const id = await openSession();
    await database.db.transaction(async (tx) => {
      await setActivePayment(tx, SCOPE, id, 'pay_hot_2', NOW).result();
    });
    const cleared = await database.db.transaction((tx) =>
      setActivePayment(tx, SCOPE, id, null, NOW).result(),
    );
    expect(cleared).toMatchObject({ activePaymentId: null, paymentStarted: true });
    expect(await storedFlag(id)).toBe(true);
  });

  it('folds the attempt into the stored flag when the session closes (what retention reads)', async () => {
    const id = await openSession();
    await database.db.transaction(async (tx) => {
      await setActivePayment(tx, SCOPE, id, 'pay_hot_3', NOW).result();
    });
    await database.db.transaction(async (tx) => {
      closeCheckoutRow(tx, SCOPE, id, 'EXPIRED', NOW);
    });
    expect(await findCheckout(database.db, SCOPE, id)).toMatchObject({
      status: 'EXPIRED',
      activePaymentId: null,
      paymentStarted: true,
    });
    expect(await storedFlag(id)).toBe(true);
  });

  it('leaves a session that never had an attempt unstarted when it closes', async () => {
    const id = await openSession();
    await database.db.transaction(async (tx) => {
      closeCheckoutRow(tx, SCOPE, id, 'EXPIRED', NOW);
    });
    expect(await findCheckout(database.db, SCOPE, id)).toMatchObject({ paymentStarted: false });
    expect(await storedFlag(id)).toBe(false);
  });
});
