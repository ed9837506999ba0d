import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ConnectorError,
  type AuthorizeRequest,
  type ConnectorStatusUpdate,
  type PaymentMethodData,
} from '../../src/connectors/connector.ts';
import {
  createSandboxConnector,
  type SandboxConnectorOptions,
} from '../../src/connectors/sandbox/sandbox.connector.ts';
import { SANDBOX_TEST_CARDS } from '../../src/connectors/sandbox/sandbox.scenarios.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { newId } from '../../src/lib/ids.ts';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.ts';
import { describeConnectorConformance } from './connector-conformance.ts';

const PUBLIC_BASE_URL = 'http://127.0.0.1:3000';
const RETURN_URL = 'http://127.0.0.1:3000/checkout/return';

function card(number: string, overrides: { cvc?: string; expMonth?: number; expYear?: number } = {}) {
  return {
    type: 'card' as const,
    card: {
      number,
      expMonth: 12,
      expYear: new Date().getUTCFullYear() + 3,
      cvc: '987',
      holderName: 'Ada Lovelace',
      ...overrides,
    },
  };
}

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

describeConnectorConformance(
  'sandbox',
  async () => {
    const received: ConnectorStatusUpdate[] = [];
    const connector = createSandboxConnector({
      db: database.pool,
      notify: async (update) => {
        received.push(update);
      },
      publicBaseUrl: PUBLIC_BASE_URL,
    });
    return {
      connector,
      received,
      inputs: {
        approved: card('4242 4242 4242 4242'),
        declined: card('4000 0000 0000 0002'),
        pending: { type: 'invoice', customer: { email: 'shopper@example.test' } },
      },
      currency: 'EUR',
      returnUrl: RETURN_URL,
      async settlePending(reference, outcome) {
        await connector.resolvePending(reference, outcome === 'authorized' ? 'SUCCEEDED' : 'REJECTED');
      },
      countAuthorizations: (paymentId) => connector.countOperations({ kind: 'authorize', paymentId }),
    };
  },
  {
    methods: ['card', 'invoice', 'wallet'],
    livemode: false,
    partialCapture: true,
    multipleCaptures: true,
    partialRefund: true,
  },
);

describe('sandbox acquirer', () => {
  /** A connector over the shared test database, with a sink that records, and a clock the test moves. */
  function makeSandbox(overrides: Partial<SandboxConnectorOptions> = {}) {
    const received: ConnectorStatusUpdate[] = [];
    let now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const clock: Clock = { now: () => now };
    const connector = createSandboxConnector({
      db: database.pool,
      notify: async (update) => {
        received.push(update);
      },
      publicBaseUrl: `${PUBLIC_BASE_URL}/`,
      clock,
      ...overrides,
    });
    return {
      connector,
      received,
      clock,
      advance(ms: number) {
        now = new Date(now.getTime() + ms);
        return now;
      },
    };
  }

  function request(method: PaymentMethodData, overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
    return {
      idempotencyKey: `sandbox-${randomUUID()}`,
      paymentId: newId('pay'),
      amount: 2_500,
      currency: 'DKK',
      livemode: false,
      method,
      returnUrl: RETURN_URL,
      ...overrides,
    };
  }

  async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConnectorError);
    return error as ConnectorError;
  }

  describe('magic cards', () => {
    it.each([
      ['4242 4242 4242 4242', 'authorized', undefined],
      ['4000 0000 0000 0002', 'declined', 'card_declined'],
      ['4000 0000 0000 9995', 'declined', 'insufficient_funds'],
      ['4000 0000 0000 3220', 'requires_action', undefined],
      ['4000 0000 0000 0259', 'pending', undefined],
      ['5555 5555 5555 4444', 'authorized', undefined],
    ])('%s → %s %s', async (number, status, declineCode) => {
      const { connector } = makeSandbox();
      const result = await connector.authorize(request(card(number)));
      expect(result.status).toBe(status);
      if (result.status === 'declined') expect(result.declineCode).toBe(declineCode);
      const payment = await connector.findPayment(result.connectorReference);
      expect(payment).toMatchObject({ status, cardLast4: number.slice(-4), amount: 2_500, currency: 'DKK' });
    });

    it('approves any other Luhn-valid number and records its brand', async () => {
      const { connector } = makeSandbox();
      const amex = await connector.authorize(request(card('378282246310005', { cvc: '1234' })));
      expect(amex.status).toBe('authorized');
      expect(await connector.findPayment(amex.connectorReference)).toMatchObject({
        cardBrand: 'amex',
        cardLast4: '0005',
      });
    });

    it('fails 4000 0000 0000 0119 with a processor error, recorded once and replayed for the same key', async () => {
      const { connector } = makeSandbox();
      const authorizeRequest = request(card('4000000000000119'));
      const error = await rejection(connector.authorize(authorizeRequest));
      expect(error).toMatchObject({ code: 'processor_error', retryable: false, connectorId: 'sandbox' });
      const again = await rejection(connector.authorize({ ...authorizeRequest }));
      expect(again.code).toBe('processor_error');
      const operations = await connector.listOperations({ paymentId: authorizeRequest.paymentId });
      expect(operations).toHaveLength(1);
      expect(operations[0]).toMatchObject({
        kind: 'authorize',
        outcome: 'processor_error',
        paymentReference: null,
      });
    });

    it('declines what a bank would refuse: bad check digit, expired card, wrong CVC length', async () => {
      const { connector } = makeSandbox();
      const cases = [
        [card('4242424242424241'), 'invalid_number'],
        [card('4242 4242 4242 4242', { expMonth: 1, expYear: 2020 }), 'expired_card'],
        [card('4242 4242 4242 4242', { cvc: '12' }), 'incorrect_cvc'],
        [card('378282246310005', { cvc: '123' }), 'incorrect_cvc'],
      ] as const;
      for (const [method, declineCode] of cases) {
        const result = await connector.authorize(request(method));
        expect(result).toMatchObject({ status: 'declined', declineCode });
      }
    });

    it('never stores a card number or CVC anywhere in its ledger', async () => {
      const { connector } = makeSandbox();
      const numbers = [...SANDBOX_TEST_CARDS.map((testCard) => testCard.number), '5555555555554444'];
      for (const number of numbers) {
        await connector.authorize(request(card(number, { cvc: '987' }))).catch(() => undefined);
      }
      const dump = await database.pool.query<{ row: Record<string, unknown> }>(
        `SELECT to_jsonb(t) AS row FROM sandbox_acquirer_payments t
         UNION ALL SELECT to_jsonb(t) FROM sandbox_acquirer_operations t
         UNION ALL SELECT to_jsonb(t) FROM sandbox_acquirer_notifications t`,
      );
      expect(dump.rows.length).toBeGreaterThanOrEqual(numbers.length);
      const text = JSON.stringify(dump.rows);
      for (const number of numbers) expect(text).not.toContain(number);
      const values = dump.rows.flatMap(({ row }) => Object.values(row));
      expect(values).not.toContain('987');
      expect(text).not.toMatch(/holder|Lovelace/i);
    });
  });

  describe('3-D Secure challenge', () => {
    it('asks for a redirect to the challenge page, then authorises when the shopper passes', async () => {
      const { connector, received } = makeSandbox();
      const authorizeRequest = request(card('4000 0000 0000 3220'));
      const result = await connector.authorize(authorizeRequest);
      expect(result.status).toBe('requires_action');
      if (result.status !== 'requires_action') return;
      const reference = result.connectorReference;
      expect(result.action).toEqual({ type: 'redirect', url: `${PUBLIC_BASE_URL}/sandbox/3ds/${reference}` });
      expect(await connector.getPaymentStatus({ connectorReference: reference })).toMatchObject({
        status: 'requires_action',
        action: result.action,
      });
      expect(received).toHaveLength(0);

      const passed = await connector.completeChallenge(reference, 'pass');
      expect(passed).toEqual({
        reference,
        paymentId: authorizeRequest.paymentId,
        status: 'authorized',
        declineCode: null,
        changed: true,
        returnUrl: RETURN_URL,
      });
      expect(received).toEqual([
        expect.objectContaining({
          connectorReference: reference,
          paymentId: authorizeRequest.paymentId,
          status: 'authorized',
        }),
      ]);
      expect((await connector.getPaymentStatus({ connectorReference: reference })).status).toBe('authorized');

      // A second click (even on the other button) changes nothing and notifies nothing.
      expect(await connector.completeChallenge(reference, 'fail')).toMatchObject({
        status: 'authorized',
        changed: false,
      });
      expect(received).toHaveLength(1);
    });

    it('declines with authentication_failed when the shopper fails', async () => {
      const { connector, received } = makeSandbox();
      const result = await connector.authorize(request(card('4000000000003220')));
      const failed = await connector.completeChallenge(result.connectorReference, 'fail');
      expect(failed).toMatchObject({
        status: 'declined',
        declineCode: 'authentication_failed',
        changed: true,
      });
      expect(received[0]).toMatchObject({ status: 'declined', declineCode: 'authentication_failed' });
      const capture = await connector.capture({
        idempotencyKey: randomUUID(),
        connectorReference: result.connectorReference,
        amount: 100,
        currency: 'DKK',
      });
      expect(capture).toMatchObject({ status: 'failed', failureCode: 'invalid_state' });
    });

    it('refuses to complete a challenge on a payment that has none, or that does not exist', async () => {
      const { connector } = makeSandbox();
      const approved = await connector.authorize(request(card('4242424242424242')));
      expect((await rejection(connector.completeChallenge(approved.connectorReference, 'pass'))).code).toBe(
        'invalid_request',
      );
      expect((await rejection(connector.completeChallenge(`sbx_${'0'.repeat(32)}`, 'pass'))).code).toBe(
        'invalid_request',
      );
      expect((await rejection(connector.completeChallenge('../../etc', 'pass'))).code).toBe(
        'invalid_request',
      );
      expect(await connector.findPayment(`sbx_${'0'.repeat(32)}`)).toBeNull();
    });
  });

  describe('wallet', () => {
    it('redirects to the wallet page and authorises on approval', async () => {
      const { connector, received } = makeSandbox();
      const result = await connector.authorize(request({ type: 'wallet' }));
      expect(result).toMatchObject({
        status: 'requires_action',
        action: { type: 'redirect', url: `${PUBLIC_BASE_URL}/sandbox/wallet/${result.connectorReference}` },
      });
      await expect(connector.completeChallenge(result.connectorReference, 'pass')).rejects.toThrow(
        ConnectorError,
      );
      expect(await connector.completeWallet(result.connectorReference, 'approve')).toMatchObject({
        status: 'authorized',
        changed: true,
      });
      expect(received).toHaveLength(1);
    });

    it('declines when the shopper declines in the wallet', async () => {
      const { connector } = makeSandbox();
      const result = await connector.authorize(request({ type: 'wallet' }));
      expect(await connector.completeWallet(result.connectorReference, 'decline')).toMatchObject({
        status: 'declined',
        declineCode: 'payment_rejected',
      });
    });
  });

  describe('pending payments', () => {
    it('keeps an invoice pending until it is resolved, whatever the time', async () => {
      const { connector, received, advance } = makeSandbox();
      const result = await connector.authorize(request({ type: 'invoice', customer: { firstName: 'Ada' } }));
      expect(result.status).toBe('pending');
      await connector.finaliseDuePending(advance(365 * 24 * 3600_000));
      expect((await connector.findPayment(result.connectorReference))?.status).toBe('pending');
      expect(await connector.resolvePending(result.connectorReference, 'REJECTED')).toMatchObject({
        status: 'declined',
        declineCode: 'payment_rejected',
        changed: true,
      });
      // The year-ahead run above may have finalised other tests' pending cards; look at this payment only.
      const own = () => received.filter((update) => update.connectorReference === result.connectorReference);
      expect(own()).toEqual([
        expect.objectContaining({ status: 'declined', declineCode: 'payment_rejected' }),
      ]);
      expect(await connector.resolvePending(result.connectorReference, 'SUCCEEDED')).toMatchObject({
        status: 'declined',
        changed: false,
      });
      expect(own()).toHaveLength(1);
    });

    it('refuses to resolve a payment that waits for the shopper', async () => {
      const { connector } = makeSandbox();
      const result = await connector.authorize(request({ type: 'wallet' }));
      expect((await rejection(connector.resolvePending(result.connectorReference, 'SUCCEEDED'))).code).toBe(
        'invalid_request',
      );
    });

    it('finalises the pending card after the delay, from the ledger, even in a restarted gateway', async () => {
      const first = makeSandbox({ pendingDelayMs: 30_000 });
      const result = await first.connector.authorize(request(card('4000000000000259')));
      expect(result.status).toBe('pending');
      const payment = await first.connector.findPayment(result.connectorReference);
      expect(payment?.finaliseAt).toEqual(new Date(first.clock.now().getTime() + 30_000));

      // "Restart": a new connector instance over the same ledger, nothing shared in memory.
      const second = makeSandbox();
      const start = first.clock.now().getTime();
      // Other tests share the ledger, so check this payment rather than the count of finalised ones.
      await second.connector.finaliseDuePending(new Date(start + 29_999));
      expect((await second.connector.findPayment(result.connectorReference))?.status).toBe('pending');
      expect(second.received.some((u) => u.connectorReference === result.connectorReference)).toBe(false);
      const finalised = await second.connector.finaliseDuePending(new Date(start + 30_000));
      expect(finalised).toBeGreaterThanOrEqual(1);
      expect(second.received).toContainEqual(
        expect.objectContaining({ connectorReference: result.connectorReference, status: 'authorized' }),
      );
      expect(
        (await first.connector.getPaymentStatus({ connectorReference: result.connectorReference })).status,
      ).toBe('authorized');
      // Already finalised: a later run does not notify it again.
      const before = second.received.length;
      await second.connector.finaliseDuePending(new Date(start + 60_000));
      expect(second.received.filter((u) => u.connectorReference === result.connectorReference)).toHaveLength(
        1,
      );
      expect(second.received.length).toBeGreaterThanOrEqual(before);
    });

    it('uses a configurable delay, and a pending card can be resolved explicitly', async () => {
      const { connector, clock } = makeSandbox({ pendingDelayMs: 5_000 });
      const result = await connector.authorize(request(card('4000000000000259')));
      expect((await connector.findPayment(result.connectorReference))?.finaliseAt).toEqual(
        new Date(clock.now().getTime() + 5_000),
      );
      expect(await connector.resolvePending(result.connectorReference, 'REJECTED')).toMatchObject({
        status: 'declined',
      });
      await connector.finaliseDuePending(new Date(clock.now().getTime() + 10_000));
      expect((await connector.findPayment(result.connectorReference))?.status).toBe('declined');
    });
  });

  describe('notifications', () => {
    it('keeps an update the sink refused and delivers it again later, with the same id', async () => {
      let refuse = true;
      const delivered: ConnectorStatusUpdate[] = [];
      const reported: unknown[] = [];
      const sandbox = makeSandbox({
        notify: async (update) => {
          if (refuse) throw new Error('gateway database unavailable');
          delivered.push(update);
        },
        onNotificationError: (error) => reported.push(error),
      });
      const result = await sandbox.connector.authorize(request({ type: 'invoice', customer: {} }));
      const resolution = await sandbox.connector.resolvePending(result.connectorReference, 'SUCCEEDED');
      expect(resolution).toMatchObject({ status: 'authorized', changed: true });
      expect(reported).toHaveLength(1);
      const [pending] = await sandbox.connector.listNotifications(result.connectorReference);
      expect(pending).toMatchObject({
        attempts: 1,
        deliveredAt: null,
        lastError: 'gateway database unavailable',
      });

      refuse = false;
      expect(await sandbox.connector.redeliverDueNotifications(sandbox.clock.now())).toBe(0); // backoff not over
      expect(await sandbox.connector.redeliverDueNotifications(sandbox.advance(1_000))).toBe(1);
      expect(delivered).toEqual([
        expect.objectContaining({
          notificationId: pending!.id,
          status: 'authorized',
          paymentId: resolution.paymentId,
        }),
      ]);
      expect(await sandbox.connector.redeliverDueNotifications(sandbox.advance(60_000))).toBe(0);
      const [done] = await sandbox.connector.listNotifications(result.connectorReference);
      expect(done).toMatchObject({ attempts: 2, lastError: null });
      expect(done?.deliveredAt).toBeInstanceOf(Date);
    });

    it('can deliver every notification twice (duplicateNotifications)', async () => {
      const { connector, received } = makeSandbox({ faults: { duplicateNotifications: true } });
      const result = await connector.authorize(request({ type: 'invoice', customer: {} }));
      await connector.resolvePending(result.connectorReference, 'SUCCEEDED');
      expect(received).toHaveLength(2);
      expect(received[1]).toEqual(received[0]);
    });
  });

  describe('acquirer-side rules', () => {
    it('refuses a key reused for another kind of operation', async () => {
      const { connector } = makeSandbox();
      const result = await connector.authorize(request(card('4242424242424242')));
      const captureKey = randomUUID();
      const capture = { connectorReference: result.connectorReference, amount: 1_000, currency: 'DKK' };
      expect((await connector.capture({ idempotencyKey: captureKey, ...capture })).status).toBe('succeeded');
      expect((await rejection(connector.refund({ idempotencyKey: captureKey, ...capture }))).code).toBe(
        'invalid_request',
      );
      expect(
        (await rejection(connector.capture({ idempotencyKey: captureKey, ...capture, amount: 999 }))).code,
      ).toBe('invalid_request');
      expect(
        await connector.countOperations({ paymentReference: result.connectorReference, kind: 'capture' }),
      ).toBe(1);
    });

    it('will not void a captured payment, and records refusals in the ledger', async () => {
      const { connector } = makeSandbox();
      const result = await connector.authorize(request(card('4242424242424242')));
      await connector.capture({
        idempotencyKey: randomUUID(),
        connectorReference: result.connectorReference,
        amount: 500,
        currency: 'DKK',
      });
      const voided = await connector.void({
        idempotencyKey: randomUUID(),
        connectorReference: result.connectorReference,
      });
      expect(voided).toMatchObject({ status: 'failed', failureCode: 'invalid_state' });
      expect(
        await connector.countOperations({ paymentReference: result.connectorReference, outcome: 'failed' }),
      ).toBe(1);
      const ops = await connector.listOperations({ paymentReference: result.connectorReference });
      expect(ops.map((op) => [op.kind, op.outcome])).toEqual([
        ['authorize', 'authorized'],
        ['capture', 'succeeded'],
        ['void', 'failed'],
      ]);
    });

    it('refuses live mode without touching the ledger', async () => {
      const { connector } = makeSandbox();
      const liveRequest = request(card('4242424242424242'), { livemode: true });
      const error = await rejection(connector.authorize(liveRequest));
      expect(error.code).toBe('invalid_request');
      expect(error.message).toMatch(/test mode only/);
      expect(await connector.countOperations({ paymentId: liveRequest.paymentId })).toBe(0);
    });

    it('refuses a relative return URL and a malformed currency', async () => {
      const { connector } = makeSandbox();
      expect(
        (await rejection(connector.authorize(request(card('4242424242424242'), { returnUrl: '/back' }))))
          .code,
      ).toBe('invalid_request');
      expect(
        (await rejection(connector.authorize(request(card('4242424242424242'), { currency: 'eur' })))).code,
      ).toBe('invalid_request');
    });
  });

  describe('faults', () => {
    it('failEveryNth: the Nth call is refused as unavailable before anything is recorded', async () => {
      const { connector } = makeSandbox({ faults: { failEveryNth: 2 } });
      expect((await connector.authorize(request(card('4242424242424242')))).status).toBe('authorized');
      const second = request(card('4242424242424242'));
      const error = await rejection(connector.authorize(second));
      expect(error).toMatchObject({ code: 'unavailable', retryable: true });
      expect(await connector.countOperations({ paymentId: second.paymentId })).toBe(0);
      expect((await connector.authorize({ ...second })).status).toBe('authorized');
      expect(await connector.countOperations({ paymentId: second.paymentId })).toBe(1);
    });

    it('timeoutMs: the charge is recorded, the answer lost, and the retry returns the original result', async () => {
      const { connector } = makeSandbox({ faults: { timeoutMs: 30 } });
      const authorizeRequest = request(card('4242424242424242'));
      const error = await rejection(connector.authorize(authorizeRequest));
      expect(error).toMatchObject({ code: 'timeout', retryable: true });
      const [recorded] = await connector.listOperations({ paymentId: authorizeRequest.paymentId });
      expect(recorded).toMatchObject({ kind: 'authorize', outcome: 'authorized' });

      connector.setFaults({});
      const retried = await connector.authorize({ ...authorizeRequest });
      expect(retried).toEqual({ status: 'authorized', connectorReference: recorded!.paymentReference });
      expect(await connector.countOperations({ paymentId: authorizeRequest.paymentId })).toBe(1);

      connector.setFaults({ timeoutMs: 10 });
      const captureRequest = {
        idempotencyKey: randomUUID(),
        connectorReference: retried.connectorReference,
        amount: 2_500,
        currency: 'DKK',
      };
      expect((await rejection(connector.capture(captureRequest))).code).toBe('timeout');
      connector.setFaults({});
      expect((await connector.capture({ ...captureRequest })).status).toBe('succeeded');
      expect(
        (await connector.getPaymentStatus({ connectorReference: retried.connectorReference })).capturedAmount,
      ).toBe(2_500);
    });

    it('timeoutEveryNth limits timeouts to every Nth call', async () => {
      const { connector } = makeSandbox({ faults: { timeoutMs: 5, timeoutEveryNth: 3 } });
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        outcomes.push(
          await connector.authorize(request(card('4242424242424242'))).then(
            (result) => result.status,
            (error: ConnectorError) => error.code,
          ),
        );
      }
      expect(outcomes).toEqual(['authorized', 'authorized', 'timeout']);
    });

    it('latencyMs delays the call', async () => {
      const { connector } = makeSandbox({ faults: { latencyMs: 120 } });
      const started = performance.now();
      await connector.authorize(request(card('4242424242424242')));
      expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    });
  });

  it('docs/test-cards.md documents every magic card', async () => {
    const doc = await readFile(new URL('../../docs/test-cards.md', import.meta.url), 'utf8');
    for (const testCard of SANDBOX_TEST_CARDS) {
      expect(doc).toContain(testCard.number.replace(/(\d{4})(?=\d)/g, '$1 '));
    }
    expect(doc).toContain('/v1/sandbox/payments/');
    expect(doc).toContain('/sandbox/3ds/');
    expect(doc).toContain('/sandbox/wallet/');
  });
});
