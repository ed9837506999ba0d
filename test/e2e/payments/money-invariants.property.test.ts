import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  authorizedPayment,
  get,
  kassaTotals,
  post,
  sandboxTotals,
  type PaymentJson,
} from './payment-fixtures.ts';

/**
 * Property (the Jepsen "bank" invariant, applied to one payment): whatever sequence of captures and refunds a
 * merchant sends — sequential or in parallel bursts, with or without amounts — always
 *
 *   0 ≤ Σ refunds ≤ Σ captures ≤ authorised
 *
 * in Kassa's child rows, on the payment, on the order, AND in the sandbox bank's own ledger; and a request
 * sent alone succeeds exactly when the model says it fits. Each run starts from a fresh checkout.
 */

type Operation = { kind: 'capture' | 'refund'; amount: number | undefined };

const RUNS_PER_CURRENCY = 20;

/** Totals in minor units: ¥ has no decimals, $ two, the Kuwaiti dinar three. */
const CURRENCIES = [
  { currency: 'JPY', total: fc.integer({ min: 1, max: 200_000 }) },
  { currency: 'USD', total: fc.integer({ min: 50, max: 500_000 }) },
  { currency: 'KWD', total: fc.integer({ min: 1, max: 2_000_000 }) },
];

function scenario(total: fc.Arbitrary<number>) {
  return total.chain((authorised) => {
    const operation: fc.Arbitrary<Operation> = fc.record({
      kind: fc.constantFrom('capture' as const, 'refund' as const),
      // Often a share of the total, sometimes more than can fit, sometimes no amount (= all that remains).
      amount: fc.option(fc.integer({ min: 1, max: Math.ceil(authorised * 0.8) }), {
        nil: undefined,
        freq: 4,
      }),
    });
    return fc.record({
      authorised: fc.constant(authorised),
      steps: fc.array(fc.array(operation, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 7 }),
    });
  });
}

describe('property: Σ refunds ≤ Σ captures ≤ authorised, in Kassa and at the bank', () => {
  let t: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function run(currency: string, authorised: number, steps: Operation[][]) {
    const payment = await authorizedPayment(t, merchant, { currency, amount: authorised });
    expect(payment).toMatchObject({ status: 'AUTHORIZED', authorized_amount: authorised });
    let captured = 0;
    let refunded = 0;

    for (const step of steps) {
      const answers = await Promise.all(
        step.map((op) =>
          post(
            t,
            merchant,
            `/v1/payments/${payment.id}/${op.kind === 'capture' ? 'capture' : 'refunds'}`,
            op.amount === undefined ? {} : { amount: op.amount },
          ),
        ),
      );
      const moved = { capture: 0, refund: 0 };
      answers.forEach((answer, index) => {
        const op = step[index]!;
        if (answer.statusCode === 201) {
          moved[op.kind] += answer.json<{ amount: number }>().amount;
          return;
        }
        const problem = expectProblem(answer);
        expect([
          'amount_exceeds_capturable',
          'amount_exceeds_refundable',
          'invalid_state_transition',
        ]).toContain(problem.code);
      });

      if (step.length === 1) {
        // Alone, the outcome is fully determined by the model.
        const op = step[0]!;
        const room = op.kind === 'capture' ? authorised - captured : captured - refunded;
        const wanted = op.amount ?? room;
        const fits = room >= 1 && wanted <= room && (op.kind === 'capture' || captured > 0);
        expect(answers[0]!.statusCode, `${op.kind} ${op.amount} with room ${room}: ${answers[0]!.body}`).toBe(
          fits ? 201 : op.kind === 'refund' && captured === 0 ? 409 : 422,
        );
        if (fits) expect(moved[op.kind]).toBe(wanted);
      }
      captured += moved.capture;
      refunded += moved.refund;
      expect(0 <= refunded && refunded <= captured && captured <= authorised).toBe(true);
    }

    // Kassa's payment, its child rows, its order and the bank's ledger all agree, and obey the invariant.
    const final = (await get(t, merchant, `/v1/payments/${payment.id}`)).json<PaymentJson>();
    expect(final).toMatchObject({
      captured_amount: captured,
      refunded_amount: refunded,
      authorized_amount: authorised,
      currency,
    });
    expect(await kassaTotals(t, payment.id)).toEqual({
      captured,
      refunded,
      pendingCaptures: 0,
      pendingRefunds: 0,
    });
    const bank = await sandboxTotals(t, payment.id);
    expect(bank).toMatchObject({ captured, refunded });
    const { rows } = await t.database.db.query<{ captures: number; refunds: number }>(
      `SELECT (SELECT count(*) FROM captures WHERE payment_id = $1)::int AS captures,
              (SELECT count(*) FROM refunds WHERE payment_id = $1)::int AS refunds`,
      [payment.id],
    );
    // Every child row reached the bank exactly once, and nothing else did.
    expect(bank.captureCalls).toBe(rows[0]!.captures);
    expect(bank.refundCalls).toBe(rows[0]!.refunds);
    const order = (await get(t, merchant, `/v1/orders/${payment.order_id}`)).json();
    const expectedStatus =
      captured === 0
        ? 'AUTHORIZED'
        : refunded === 0
          ? 'PAID'
          : refunded === authorised
            ? 'REFUNDED'
            : 'PARTIALLY_REFUNDED';
    expect(order).toMatchObject({
      status: expectedStatus,
      captured_amount: captured,
      refunded_amount: refunded,
    });
  }

  for (const { currency, total } of CURRENCIES) {
    it(`holds for random capture / refund sequences in ${currency}`, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(scenario(total), async ({ authorised, steps }) => run(currency, authorised, steps)),
        { numRuns: RUNS_PER_CURRENCY },
      );
    });
  }
});
