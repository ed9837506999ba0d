import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createPaymentCheckout, payByApi } from './payment-fixtures.ts';

/**
 * What `POST /v1/payments` costs in round trips to PostgreSQL (docs/performance.md): the key's claim travels
 * with the payment start's load, and the key's record with the settlement's COMMIT. Counted on the wire: each
 * extended-protocol Sync (or simple query) is one round trip; the statements are those bound before it.
 */

type PgConnection = Record<string, (this: unknown, ...args: never[]) => unknown>;
const connection = (createRequire(import.meta.url)('pg/lib/connection.js') as { prototype: PgConnection })
  .prototype;

/** Runs `work` and answers the statements sent, grouped by round trip. */
async function roundTripsOf(work: () => Promise<unknown>): Promise<string[][]> {
  const original = {
    parse: connection.parse!,
    bind: connection.bind!,
    sync: connection.sync!,
    query: connection.query!,
  };
  const texts = new Map<string, string>();
  let unnamed = '';
  const trips: string[][] = [];
  let current: string[] = [];
  connection.parse = function (this: unknown, message: { name?: string; text: string }) {
    if (message.name) texts.set(message.name, message.text);
    else unnamed = message.text;
    return original.parse.call(this, message as never);
  } as PgConnection[string];
  connection.bind = function (this: unknown, message: { statement?: string }) {
    // pg keeps, per connection, the text of each statement it has prepared there.
    const prepared = (this as { parsedStatements: Record<string, string> }).parsedStatements;
    const text = message.statement ? (texts.get(message.statement) ?? prepared[message.statement]) : unnamed;
    current.push((text ?? '?').replace(/\s+/g, ' ').trim());
    return original.bind.call(this, message as never);
  } as PgConnection[string];
  connection.sync = function (this: unknown) {
    trips.push(current);
    current = [];
    return original.sync.call(this);
  } as PgConnection[string];
  connection.query = function (this: unknown, text: string) {
    trips.push([text]);
    return original.query.call(this, text as never);
  } as PgConnection[string];
  try {
    await work();
  } finally {
    Object.assign(connection, original);
  }
  return trips;
}

describe('POST /v1/payments round trips', () => {
  let t: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('pays a card (sandbox, automatic capture) with an Idempotency-Key in at most 5 round trips', async () => {
    const measured: string[][][] = [];
    // The first payments also fill the process's caches and prepare the statements on the pool's connections.
    for (let round = 0; round < 4; round++) {
      const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic', amount: 2500 });
      let status = 0;
      const trips = await roundTripsOf(async () => {
        const response = await payByApi(t, merchant, checkout.checkout_id, undefined, {
          'idempotency-key': `round-trips-${round}`,
        });
        status = response.statusCode;
      });
      expect(status).toBe(201);
      if (round >= 1) measured.push(trips);
    }
    const fewest = measured.reduce((best, trips) => (trips.length < best.length ? trips : best));
    // start (the key's lookup and claim with the session's lock, the order and the processor accounts; then
    // the inserts with COMMIT), the sandbox processor, settle (its locks; then its writes, events, the key's
    // record and COMMIT).
    expect(fewest.length, JSON.stringify(fewest, null, 1)).toBeLessThanOrEqual(5);
    const started = fewest.find((trip) =>
      trip.some((text) => text.startsWith('INSERT INTO idempotency_keys')),
    )!;
    expect(started.some((text) => /FROM checkouts WHERE id = \$1 .* FOR UPDATE$/.test(text))).toBe(true);
    const settled = fewest.find((trip) => trip.some((text) => text.startsWith('UPDATE idempotency_keys')))!;
    expect(settled.some((text) => text.startsWith('UPDATE payments'))).toBe(true);
    expect(settled.at(-1)).toBe('COMMIT');
  });
});
