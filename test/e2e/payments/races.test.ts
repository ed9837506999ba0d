import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  authorizedPayment,
  cardMethod,
  createPaymentCheckout,
  get,
  kassaTotals,
  sandboxTotals,
  type PaymentJson,
} from './payment-fixtures.ts';

/**
 * Parallel requests over real HTTP against the real database (docs/payments.md: "parallel requests can never capture
 * or refund more than allowed"). Each burst is sent with Promise.all over fetch, so the requests really
 * overlap in the server, its connection pool and PostgreSQL; the sandbox's own ledger is the bank's truth.
 */
describe('races: parallel captures, refunds, voids and payments', () => {
  let t: TestApp;
  let merchant: TestMerchant;

  beforeAll(async () => {
    t = await createTestApp({ listen: true, poolMax: 30 });
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  type Answer = { statusCode: number; headers: Record<string, string>; body: string };

  async function send(
    path: string,
    body: unknown = {},
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(`${t.baseUrl}${path}`, {
      method: 'POST',
      headers: { ...merchant.headers, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return {
      statusCode: response.status,
      headers: Object.fromEntries(response.headers),
      body: await response.text(),
    };
  }

  const parallel = (count: number, request: (index: number) => Promise<Answer>) =>
    Promise.all(Array.from({ length: count }, (_, index) => request(index)));

  /** Every refusal in a burst must be a coded problem document: never a 500, never a silent success. */
  function expectCodedRefusals(answers: Answer[], codes: string[]) {
    for (const answer of answers.filter((a) => a.statusCode >= 400)) {
      const problem = expectProblem(answer);
      expect(codes, `${answer.statusCode} ${answer.body}`).toContain(problem.code);
    }
  }

  it('10 parallel refunds of 400 on a 1000 capture: exactly 2 succeed, the bank refunded exactly 800', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 1000, capture: 'automatic' });
    expect(payment.captured_amount).toBe(1000);
    const answers = await parallel(10, () => send(`/v1/payments/${payment.id}/refunds`, { amount: 400 }));

    const succeeded = answers.filter((a) => a.statusCode === 201);
    expect(succeeded.length).toBeLessThanOrEqual(2);
    expect(succeeded).toHaveLength(2); // no faults: both refunds that fit are made
    expect(answers.filter((a) => a.statusCode >= 400)).toHaveLength(8);
    expectCodedRefusals(answers, ['amount_exceeds_refundable']);

    const kassa = await kassaTotals(t, payment.id);
    expect(kassa).toMatchObject({ refunded: 800, pendingRefunds: 0 });
    expect(kassa.refunded).toBeLessThanOrEqual(kassa.captured);
    // The sandbox saw exactly as many refunds as succeeded: the refused ones never reached the bank.
    expect(await sandboxTotals(t, payment.id)).toMatchObject({ refunded: 800, refundCalls: 2 });
    const after = (await get(t, merchant, `/v1/payments/${payment.id}`)).json<PaymentJson>();
    expect(after.refunded_amount).toBe(800);
    expect((await get(t, merchant, `/v1/orders/${payment.order_id}`)).json()).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      refunded_amount: 800,
    });
  });

  it('5 parallel full captures: exactly one captures, the others are refused', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 1000 });
    const answers = await parallel(5, () => send(`/v1/payments/${payment.id}/capture`));
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(1);
    expectCodedRefusals(answers, ['amount_exceeds_capturable']);
    expect(await kassaTotals(t, payment.id)).toMatchObject({ captured: 1000, pendingCaptures: 0 });
    expect(await sandboxTotals(t, payment.id)).toMatchObject({ captured: 1000, captureCalls: 1 });
  });

  it('parallel partial captures of random sizes never exceed the authorization', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 1000 });
    const amounts = [300, 450, 200, 125, 600, 80, 333, 90];
    const answers = await parallel(amounts.length, (i) =>
      send(`/v1/payments/${payment.id}/capture`, { amount: amounts[i] }),
    );
    expectCodedRefusals(answers, ['amount_exceeds_capturable']);
    const captured = answers
      .filter((a) => a.statusCode === 201)
      .reduce((sum, a) => sum + (JSON.parse(a.body) as { amount: number }).amount, 0);
    expect(captured).toBeLessThanOrEqual(1000);
    expect(await kassaTotals(t, payment.id)).toMatchObject({ captured, pendingCaptures: 0 });
    expect(await sandboxTotals(t, payment.id)).toMatchObject({ captured });
  });

  it('capture and void in parallel: one consistent outcome, never both (10 rounds)', async () => {
    const outcomes: string[] = [];
    for (let round = 0; round < 10; round += 1) {
      const payment = await authorizedPayment(t, merchant, { amount: 1000 });
      const requests = [
        () => send(`/v1/payments/${payment.id}/capture`),
        () => send(`/v1/payments/${payment.id}/cancel`),
      ];
      // Alternate which request leaves first.
      const [capture, cancel] =
        round % 2 === 0
          ? await Promise.all([requests[0]!(), requests[1]!()])
          : await Promise.all([requests[1]!(), requests[0]!()]).then(([a, b]) => [b, a] as const);
      const captureWon = capture.statusCode === 201;
      const cancelWon = cancel.statusCode === 200;
      expect(
        captureWon !== cancelWon,
        `capture ${capture.statusCode} ${capture.body} / cancel ${cancel.statusCode} ${cancel.body}`,
      ).toBe(true);
      expectCodedRefusals([capture, cancel], ['invalid_state_transition', 'conflict']);

      const final = (await get(t, merchant, `/v1/payments/${payment.id}`)).json<PaymentJson>();
      const order = (await get(t, merchant, `/v1/orders/${payment.order_id}`)).json();
      const bank = await sandboxTotals(t, payment.id);
      if (captureWon) {
        expect(final).toMatchObject({ status: 'SUCCEEDED', captured_amount: 1000 });
        expect(order.status).toBe('PAID');
        expect(bank).toMatchObject({ captured: 1000, voids: 0 });
      } else {
        expect(final).toMatchObject({ status: 'CANCELED', captured_amount: 0 });
        expect(order.status).toBe('CANCELED');
        expect(bank).toMatchObject({ captured: 0, voids: 1 });
      }
      outcomes.push(captureWon ? 'captured' : 'canceled');
    }
    expect(outcomes).toHaveLength(10);
  });

  it('10 parallel refunds with the same Idempotency-Key: one refund at the bank, the others replayed or told to wait', async () => {
    const payment = await authorizedPayment(t, merchant, { amount: 1000, capture: 'automatic' });
    const answers = await parallel(10, () =>
      send(
        `/v1/payments/${payment.id}/refunds`,
        { amount: 100 },
        { 'idempotency-key': `same-${payment.id}` },
      ),
    );
    const ok = answers.filter((a) => a.statusCode === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((a) => (JSON.parse(a.body) as { id: string }).id)).size).toBe(1);
    expectCodedRefusals(answers, ['idempotency_key_in_use']);
    expect(await sandboxTotals(t, payment.id)).toMatchObject({ refunded: 100, refundCalls: 1 });
  });

  it('10 parallel Processor API payments with one Idempotency-Key: one payment, one authorization, the others replayed or told to wait', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic' });
    const body = { checkout_id: checkout.checkout_id, payment_method: cardMethod() };
    const key = { 'idempotency-key': `same-pay-${checkout.checkout_id}` };
    const answers = await parallel(10, () => send('/v1/payments', body, key));
    const ok = answers.filter((a) => a.statusCode === 201);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(new Set(ok.map((a) => a.body)).size).toBe(1); // replays are byte for byte the first answer
    expect((JSON.parse(ok[0]!.body) as { status: string }).status).toBe('SUCCEEDED');
    expectCodedRefusals(answers, ['idempotency_key_in_use']);
    const { rows } = await t.database.db.query<{ id: string }>(
      'SELECT id FROM payments WHERE checkout_id = $1',
      [checkout.checkout_id],
    );
    expect(rows).toHaveLength(1);
    expect(await t.services.sandbox.countOperations({ kind: 'authorize', paymentId: rows[0]!.id })).toBe(1);
    // Afterwards the key answers the stored payment; another body under it is refused.
    const again = await send('/v1/payments', body, key);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(ok[0]!.body);
    const other = await send('/v1/payments', { ...body, metadata: { other: 'body' } }, key);
    expect(other.statusCode).toBe(422);
    expect(expectProblem(other).code).toBe('idempotency_key_reused');
  });

  it('5 parallel Processor API payments of one checkout: one authorization, the others refused', async () => {
    const checkout = await createPaymentCheckout(t, merchant, { capture: 'automatic' });
    const answers = await parallel(5, () =>
      send('/v1/payments', { checkout_id: checkout.checkout_id, payment_method: cardMethod() }),
    );
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(1);
    expectCodedRefusals(answers, ['payment_in_progress', 'invalid_state_transition']);
    expect(
      await t.services.sandbox.countOperations({ kind: 'authorize', outcome: 'authorized' }),
    ).toBeGreaterThan(0);
    const { rows } = await t.database.db.query<{ id: string }>(
      'SELECT id FROM payments WHERE checkout_id = $1',
      [checkout.checkout_id],
    );
    expect(rows).toHaveLength(1);
    expect(await t.services.sandbox.countOperations({ kind: 'authorize', paymentId: rows[0]!.id })).toBe(1);
  });
});
