import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  ConnectorError,
  DECLINE_CODES,
  type AuthorizeRequest,
  type AuthorizeResult,
  type Connector,
  type ConnectorCapabilities,
  type ConnectorPaymentStatus,
  type ConnectorStatusUpdate,
  type OperationResult,
  type PaymentMethodData,
} from '../../src/connectors/connector.ts';
import { newId } from '../../src/lib/ids.ts';

/**
 * The kit every connector passes (hyperswitch's `ConnectorActions`): the behaviour Kassa's payment flows
 * rely on, stated once and run against each connector with its own inputs. A connector is only as good as
 * these guarantees — especially that the same idempotency key never moves money twice.
 */

export type ConformanceFixture = {
  connector: Connector;
  /** Every update the connector's `notify` sink received, in arrival order. */
  received: ConnectorStatusUpdate[];
  /** Inputs this processor approves, declines, and leaves pending. */
  inputs: { approved: PaymentMethodData; declined: PaymentMethodData; pending: PaymentMethodData };
  currency: string;
  returnUrl: string;
  /** Makes the processor decide a pending payment (the sandbox resolves it; a real one uses its test API). */
  settlePending(connectorReference: string, outcome: 'authorized' | 'declined'): Promise<void>;
  /** How many authorizations the processor holds for a Kassa payment id: proves "charged once". */
  countAuthorizations(paymentId: string): Promise<number>;
  teardown?(): Promise<void>;
  /**
   * For a processor the connector cannot read back (`statusLookups: false`): the processor's own view of a
   * payment, from its test fake, standing in for `getPaymentStatus` / `lookupPayment` in every check.
   */
  processorStatus?(connectorReference: string): Promise<ConnectorPaymentStatus>;
  processorLookup?(paymentId: string): Promise<ConnectorPaymentStatus | null>;
  /**
   * For a processor whose captures, voids and refunds are asynchronous: waits for the processor's decision on
   * a `pending` result (its webhook) and answers the final result.
   */
  settleOperation?(result: OperationResult): Promise<OperationResult>;
  /** With `threeDSecureRedirect`: a card that asks for a challenge, and the shopper passing or failing it. */
  challenge?: {
    input: PaymentMethodData;
    /** Follows the action's URL as the shopper would; answers the parameters the processor appends to returnUrl. */
    complete(actionUrl: string, outcome: 'pass' | 'fail'): Promise<Record<string, string>>;
  };
};

export type ConformanceOptions = {
  /**
   * Captures, voids and refunds answer `pending` and the processor decides later (Adyen): every such result
   * must be pending, and `fixture.settleOperation` gives the decision the checks apply to. A sale then cannot
   * capture at once: it answers as `authorize` would, and the caller captures with the sale's capture key.
   */
  asynchronousOperations?: boolean;
  /**
   * The connector reads a payment back (`getPaymentStatus`, `lookupPayment`). When false (Adyen has no such
   * call), the connector must refuse both without retry, and `fixture.processorStatus` / `processorLookup`
   * stand in for them.
   */
  statusLookups?: boolean;
  /** The connector runs 3-D Secure as a redirect finished by `completeAction` (`fixture.challenge`). */
  threeDSecureRedirect?: boolean;
};

/**
 * `capabilities` are what the connector is expected to declare; they are known before setup so tests that
 * only apply to some connectors are registered only for them (never skipped).
 */
export function describeConnectorConformance(
  name: string,
  setup: () => Promise<ConformanceFixture>,
  capabilities: ConnectorCapabilities,
  options: ConformanceOptions = {},
): void {
  const asynchronous = options.asynchronousOperations ?? false;
  const statusLookups = options.statusLookups ?? true;
  describe(`connector conformance: ${name}`, () => {
    let fixture: ConformanceFixture;
    /** The connector as built; `fixture.connector` is the view the shared checks use (see `checkedView`). */
    let connector: Connector;
    beforeAll(async () => {
      fixture = await setup();
      connector = fixture.connector;
      fixture = { ...fixture, connector: checkedView(fixture) };
    });
    afterAll(async () => {
      await fixture?.teardown?.();
    });

    const key = () => `conformance-${randomUUID()}`;

    /** A synchronous connector's result as it is; an asynchronous one's must be pending, then its decision. */
    async function decided(result: OperationResult): Promise<OperationResult> {
      if (!asynchronous) return result;
      expect(result.status).toBe('pending');
      expect(fixture.settleOperation).toBeDefined();
      return fixture.settleOperation!(result);
    }

    /**
     * The connector with the same checks for every processor: with `asynchronousOperations`, each capture, void
     * and refund must answer pending and is then decided; with `statusLookups: false`, lookups are answered by the
     * processor's own view. Otherwise the connector itself.
     */
    function checkedView(built: ConformanceFixture): Connector {
      const raw = built.connector;
      if (!asynchronous && statusLookups) return raw;
      return {
        ...raw,
        id: raw.id,
        capabilities: raw.capabilities,
        capture: async (request) => decided(await raw.capture(request)),
        void: async (request) => decided(await raw.void(request)),
        refund: async (request) => decided(await raw.refund(request)),
        getPaymentStatus: (request) =>
          statusLookups ? raw.getPaymentStatus(request) : built.processorStatus!(request.connectorReference),
        lookupPayment: (request) =>
          statusLookups ? raw.lookupPayment(request) : built.processorLookup!(request.paymentId),
      };
    }

    function authorizeRequest(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
      return {
        idempotencyKey: key(),
        paymentId: newId('pay'),
        amount: 10_000,
        currency: fixture.currency,
        livemode: false,
        method: fixture.inputs.approved,
        returnUrl: fixture.returnUrl,
        ...overrides,
      };
    }

    async function authorized(amount = 10_000): Promise<string> {
      const result = await fixture.connector.authorize(authorizeRequest({ amount }));
      expect(result.status).toBe('authorized');
      return result.connectorReference;
    }

    async function expectConnectorError(promise: Promise<unknown>, code: ConnectorError['code']) {
      const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ConnectorError);
      expect((error as ConnectorError).code).toBe(code);
      return error as ConnectorError;
    }

    it('declares an id and the capabilities it is tested for', () => {
      expect(fixture.connector.id).toMatch(/^[a-z][a-z0-9_-]*$/);
      expect(fixture.connector.capabilities).toEqual(capabilities);
      expect(fixture.connector.capabilities.methods.length).toBeGreaterThan(0);
    });

    it('approves an approvable payment and reports it authorised, nothing captured', async () => {
      const request = authorizeRequest({ amount: 12_345 });
      const result = await fixture.connector.authorize(request);
      expect(result.status).toBe('authorized');
      expect(result.connectorReference).toEqual(expect.any(String));
      const status = await fixture.connector.getPaymentStatus({
        connectorReference: result.connectorReference,
      });
      expect(status).toMatchObject({
        connectorReference: result.connectorReference,
        status: 'authorized',
        amount: 12_345,
        currency: fixture.currency,
        capturedAmount: 0,
        refundedAmount: 0,
      });
    });

    it('declines a declinable payment with a code from the closed set and a message', async () => {
      const result = await fixture.connector.authorize(authorizeRequest({ method: fixture.inputs.declined }));
      expect(result.status).toBe('declined');
      if (result.status !== 'declined') return;
      expect(DECLINE_CODES).toContain(result.declineCode);
      expect(result.message.length).toBeGreaterThan(0);
      const capture = await fixture.connector.capture({
        idempotencyKey: key(),
        connectorReference: result.connectorReference,
        amount: 100,
        currency: fixture.currency,
      });
      expect(capture).toMatchObject({ status: 'failed', failureCode: 'invalid_state' });
    });

    it('charges once for the same idempotency key, sequentially and concurrently', async () => {
      const request = authorizeRequest();
      const first = await fixture.connector.authorize(request);
      const again = await fixture.connector.authorize({ ...request });
      expect(again).toEqual(first);

      const concurrent = authorizeRequest();
      const results = await Promise.all(
        Array.from({ length: 6 }, () => fixture.connector.authorize({ ...concurrent })),
      );
      const references = new Set(results.map((result: AuthorizeResult) => result.connectorReference));
      expect(references.size).toBe(1);
      expect(await fixture.countAuthorizations(request.paymentId)).toBe(1);
      expect(await fixture.countAuthorizations(concurrent.paymentId)).toBe(1);
    });

    it('refuses an idempotency key reused for a different request', async () => {
      const request = authorizeRequest();
      await fixture.connector.authorize(request);
      const error = await expectConnectorError(
        fixture.connector.authorize({ ...request, amount: request.amount + 1 }),
        'invalid_request',
      );
      expect(error.retryable).toBe(false);
      expect(await fixture.countAuthorizations(request.paymentId)).toBe(1);
    });

    const saleTitle = asynchronous
      ? 'sells an approvable payment as an authorization; the capture with the sale key captures once'
      : 'sells an approvable payment: authorised and captured in one call, once per key';
    it(saleTitle, async () => {
      if (asynchronous) return checkSaleAnsweredAsAuthorization();
      const request = { ...authorizeRequest({ amount: 7_000 }), captureIdempotencyKey: key() };
      const result = await fixture.connector.sale(request);
      expect(result.status).toBe('captured');
      if (result.status !== 'captured') return;
      expect(await fixture.connector.sale({ ...request })).toEqual(result);
      const concurrent = { ...authorizeRequest(), captureIdempotencyKey: key() };
      const results = await Promise.all(
        Array.from({ length: 6 }, () => fixture.connector.sale({ ...concurrent })),
      );
      expect(new Set(results.map((sold) => sold.connectorReference)).size).toBe(1);
      expect(await fixture.countAuthorizations(request.paymentId)).toBe(1);
      expect(await fixture.countAuthorizations(concurrent.paymentId)).toBe(1);

      // Recovery recognises a sale by what it captured.
      const expected = { status: 'authorized', amount: 7_000, capturedAmount: 7_000, refundedAmount: 0 };
      expect(
        await fixture.connector.getPaymentStatus({ connectorReference: result.connectorReference }),
      ).toMatchObject(expected);
      expect(await fixture.connector.lookupPayment({ paymentId: request.paymentId })).toMatchObject({
        ...expected,
        connectorReference: result.connectorReference,
      });
      // A capture with the sale's capture key answers the sale's capture; no other capture fits.
      const capture = {
        connectorReference: result.connectorReference,
        amount: 7_000,
        currency: fixture.currency,
      };
      expect(
        await fixture.connector.capture({ ...capture, idempotencyKey: request.captureIdempotencyKey }),
      ).toEqual({
        status: 'succeeded',
        connectorReference: result.connectorReference,
        operationReference: result.operationReference,
      });
      expect(await fixture.connector.capture({ ...capture, amount: 1, idempotencyKey: key() })).toMatchObject(
        {
          status: 'failed',
          failureCode: 'amount_exceeds_authorized',
        },
      );
      expect(await fixture.connector.refund({ ...capture, idempotencyKey: key() })).toMatchObject({
        status: 'succeeded',
      });
    });

    /** A processor whose captures are asynchronous cannot capture in the sale: the caller captures after. */
    async function checkSaleAnsweredAsAuthorization() {
      const request = { ...authorizeRequest({ amount: 7_000 }), captureIdempotencyKey: key() };
      const result = await fixture.connector.sale(request);
      expect(result).toEqual({ status: 'authorized', connectorReference: expect.any(String) });
      expect(await fixture.connector.sale({ ...request })).toEqual(result);
      const concurrent = { ...authorizeRequest(), captureIdempotencyKey: key() };
      const results = await Promise.all(
        Array.from({ length: 6 }, () => fixture.connector.sale({ ...concurrent })),
      );
      expect(new Set(results.map((sold) => sold.connectorReference)).size).toBe(1);
      expect(await fixture.countAuthorizations(request.paymentId)).toBe(1);
      expect(await fixture.countAuthorizations(concurrent.paymentId)).toBe(1);
      const reference = { connectorReference: result.connectorReference };
      expect(await fixture.connector.getPaymentStatus(reference)).toMatchObject({
        status: 'authorized',
        capturedAmount: 0,
      });

      const capture = { ...reference, amount: 7_000, currency: fixture.currency };
      const first = await connector.capture({ ...capture, idempotencyKey: request.captureIdempotencyKey });
      expect(await decided(first)).toMatchObject({ status: 'succeeded', ...reference });
      expect(await connector.capture({ ...capture, idempotencyKey: request.captureIdempotencyKey })).toEqual(
        first,
      );
      // Recovery recognises the sale by what it captured.
      const expected = { status: 'authorized', amount: 7_000, capturedAmount: 7_000, refundedAmount: 0 };
      expect(await fixture.connector.getPaymentStatus(reference)).toMatchObject(expected);
      expect(await fixture.connector.lookupPayment({ paymentId: request.paymentId })).toMatchObject({
        ...expected,
        ...reference,
      });
      expect(await fixture.connector.capture({ ...capture, amount: 1, idempotencyKey: key() })).toMatchObject(
        {
          status: 'failed',
          failureCode: 'amount_exceeds_authorized',
        },
      );
      expect(await fixture.connector.refund({ ...capture, idempotencyKey: key() })).toMatchObject({
        status: 'succeeded',
      });
    }

    it('answers a sale it cannot decide at once as authorize would, capturing nothing', async () => {
      const declined = await fixture.connector.sale({
        ...authorizeRequest({ method: fixture.inputs.declined }),
        captureIdempotencyKey: key(),
      });
      expect(declined.status).toBe('declined');
      const status = await fixture.connector.getPaymentStatus({
        connectorReference: declined.connectorReference,
      });
      expect(status.capturedAmount).toBe(0);

      const request = {
        ...authorizeRequest({ method: fixture.inputs.pending }),
        captureIdempotencyKey: key(),
      };
      const pending = await fixture.connector.sale(request);
      expect(pending.status).toBe('pending');
      await fixture.settlePending(pending.connectorReference, 'authorized');
      expect(
        await fixture.connector.getPaymentStatus({ connectorReference: pending.connectorReference }),
      ).toMatchObject({ status: 'authorized', capturedAmount: 0 });
      // The caller then captures as usual, and may use the sale's capture key for it.
      const capture = {
        idempotencyKey: request.captureIdempotencyKey,
        connectorReference: pending.connectorReference,
        amount: request.amount,
        currency: fixture.currency,
      };
      const captured = await fixture.connector.capture(capture);
      expect(captured.status).toBe('succeeded');
      expect(await fixture.connector.capture({ ...capture })).toEqual(captured);
    });

    it('treats a sale and an authorization with the same key as one request', async () => {
      const request = authorizeRequest();
      const authorization = await fixture.connector.authorize(request);
      const sold = await fixture.connector.sale({ ...request, captureIdempotencyKey: key() });
      expect(sold).toEqual(authorization);
      expect(
        await fixture.connector.getPaymentStatus({ connectorReference: authorization.connectorReference }),
      ).toMatchObject({ status: 'authorized', capturedAmount: 0 });

      const sale = { ...authorizeRequest(), captureIdempotencyKey: key() };
      const first = await fixture.connector.sale(sale);
      expect(first.status).toBe(asynchronous ? 'authorized' : 'captured');
      const { captureIdempotencyKey: _unused, ...asAuthorization } = sale;
      expect(await fixture.connector.authorize(asAuthorization)).toEqual({
        status: 'authorized',
        connectorReference: first.connectorReference,
      });
      expect(await fixture.countAuthorizations(sale.paymentId)).toBe(1);
    });

    it('captures up to the authorised amount and refuses more', async () => {
      const reference = await authorized(10_000);
      const tooMuch = await fixture.connector.capture({
        idempotencyKey: key(),
        connectorReference: reference,
        amount: 10_001,
        currency: fixture.currency,
      });
      expect(tooMuch).toMatchObject({ status: 'failed', failureCode: 'amount_exceeds_authorized' });
      const full = await fixture.connector.capture({
        idempotencyKey: key(),
        connectorReference: reference,
        amount: 10_000,
        currency: fixture.currency,
      });
      expect(full).toMatchObject({ status: 'succeeded', connectorReference: reference });
      const status = await fixture.connector.getPaymentStatus({ connectorReference: reference });
      expect(status.capturedAmount).toBe(10_000);
    });

    if (capabilities.multipleCaptures) {
      it('takes repeated partial captures while their sum stays within the authorisation', async () => {
        const reference = await authorized(10_000);
        const capture = (amount: number) =>
          fixture.connector.capture({
            idempotencyKey: key(),
            connectorReference: reference,
            amount,
            currency: fixture.currency,
          });
        expect((await capture(3_000)).status).toBe('succeeded');
        expect((await capture(4_000)).status).toBe('succeeded');
        expect(await capture(3_001)).toMatchObject({
          status: 'failed',
          failureCode: 'amount_exceeds_authorized',
        });
        expect((await capture(3_000)).status).toBe('succeeded');
        expect(await capture(1)).toMatchObject({
          status: 'failed',
          failureCode: 'amount_exceeds_authorized',
        });
        const status = await fixture.connector.getPaymentStatus({ connectorReference: reference });
        expect(status.capturedAmount).toBe(10_000);
      });

      it('never captures more than authorised under parallel captures', async () => {
        const reference = await authorized(10_000);
        const results = await Promise.all(
          Array.from({ length: 12 }, () =>
            fixture.connector.capture({
              idempotencyKey: key(),
              connectorReference: reference,
              amount: 2_000,
              currency: fixture.currency,
            }),
          ),
        );
        expect(results.filter((result) => result.status === 'succeeded')).toHaveLength(5);
        const status = await fixture.connector.getPaymentStatus({ connectorReference: reference });
        expect(status.capturedAmount).toBe(10_000);
      });
    }

    it('captures once for the same idempotency key', async () => {
      const reference = await authorized(10_000);
      const request = {
        idempotencyKey: key(),
        connectorReference: reference,
        amount: 4_000,
        currency: fixture.currency,
      };
      const results = await Promise.all([
        fixture.connector.capture(request),
        fixture.connector.capture({ ...request }),
        fixture.connector.capture({ ...request }),
      ]);
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
      expect((await fixture.connector.capture({ ...request })).operationReference).toBe(
        results[0].operationReference,
      );
      const status = await fixture.connector.getPaymentStatus({ connectorReference: reference });
      expect(status.capturedAmount).toBe(4_000);
    });

    it('refuses a capture in another currency', async () => {
      const reference = await authorized(10_000);
      const other = fixture.currency === 'EUR' ? 'USD' : 'EUR';
      const result = await fixture.connector.capture({
        idempotencyKey: key(),
        connectorReference: reference,
        amount: 100,
        currency: other,
      });
      expect(result).toMatchObject({ status: 'failed', failureCode: 'currency_mismatch' });
    });

    it('voids an uncaptured authorisation, after which nothing can be captured', async () => {
      const reference = await authorized(10_000);
      const voidRequest = { idempotencyKey: key(), connectorReference: reference };
      const voided = await fixture.connector.void(voidRequest);
      expect(voided).toMatchObject({ status: 'succeeded', connectorReference: reference });
      expect(await fixture.connector.void({ ...voidRequest })).toEqual(voided);
      expect((await fixture.connector.getPaymentStatus({ connectorReference: reference })).status).toBe(
        'voided',
      );
      const capture = await fixture.connector.capture({
        idempotencyKey: key(),
        connectorReference: reference,
        amount: 100,
        currency: fixture.currency,
      });
      expect(capture).toMatchObject({ status: 'failed', failureCode: 'invalid_state' });
      const again = await fixture.connector.void({ idempotencyKey: key(), connectorReference: reference });
      expect(again).toMatchObject({ status: 'failed', failureCode: 'invalid_state' });
    });

    if (capabilities.partialRefund) {
      it('refunds up to the captured amount, in parts, and refuses more', async () => {
        const reference = await authorized(10_000);
        const refund = (amount: number) =>
          fixture.connector.refund({
            idempotencyKey: key(),
            connectorReference: reference,
            amount,
            currency: fixture.currency,
          });
        expect(await refund(1)).toMatchObject({ status: 'failed', failureCode: 'amount_exceeds_captured' });
        await fixture.connector.capture({
          idempotencyKey: key(),
          connectorReference: reference,
          amount: 6_000,
          currency: fixture.currency,
        });
        expect(await refund(6_001)).toMatchObject({
          status: 'failed',
          failureCode: 'amount_exceeds_captured',
        });
        expect((await refund(2_000)).status).toBe('succeeded');
        expect((await refund(4_000)).status).toBe('succeeded');
        expect(await refund(1)).toMatchObject({ status: 'failed', failureCode: 'amount_exceeds_captured' });
        const status = await fixture.connector.getPaymentStatus({ connectorReference: reference });
        expect(status).toMatchObject({ capturedAmount: 6_000, refundedAmount: 6_000 });
      });

      it('refunds once for the same idempotency key, and never more than captured in parallel', async () => {
        const reference = await authorized(10_000);
        await fixture.connector.capture({
          idempotencyKey: key(),
          connectorReference: reference,
          amount: 10_000,
          currency: fixture.currency,
        });
        const request = {
          idempotencyKey: key(),
          connectorReference: reference,
          amount: 3_000,
          currency: fixture.currency,
        };
        const [first, second] = await Promise.all([
          fixture.connector.refund(request),
          fixture.connector.refund({ ...request }),
        ]);
        expect(first.status).toBe('succeeded');
        expect(second).toEqual(first);
        expect(
          (await fixture.connector.getPaymentStatus({ connectorReference: reference })).refundedAmount,
        ).toBe(3_000);

        const parallel = await Promise.all(
          Array.from({ length: 10 }, () =>
            fixture.connector.refund({
              idempotencyKey: key(),
              connectorReference: reference,
              amount: 1_000,
              currency: fixture.currency,
            }),
          ),
        );
        expect(parallel.filter((result) => result.status === 'succeeded')).toHaveLength(7);
        expect(
          (await fixture.connector.getPaymentStatus({ connectorReference: reference })).refundedAmount,
        ).toBe(10_000);
      });
    }

    it.each(['authorized', 'declined'] as const)(
      'delivers the asynchronous decision of a pending payment (%s) through the notify sink',
      async (outcome) => {
        const request = authorizeRequest({ method: fixture.inputs.pending });
        const result = await fixture.connector.authorize(request);
        expect(result.status).toBe('pending');
        await fixture.settlePending(result.connectorReference, outcome);
        const update = await vi.waitFor(
          () => {
            const found = fixture.received.find((candidate) => candidate.paymentId === request.paymentId);
            if (!found) throw new Error('no notification yet');
            return found;
          },
          { timeout: 10_000, interval: 50 },
        );
        expect(update).toMatchObject({
          connectorId: fixture.connector.id,
          connectorReference: result.connectorReference,
          paymentId: request.paymentId,
          status: outcome,
        });
        expect(update.notificationId).toEqual(expect.any(String));
        expect(update.occurredAt).toBeInstanceOf(Date);
        if (outcome === 'declined') expect(DECLINE_CODES).toContain(update.declineCode);
        const status = await fixture.connector.getPaymentStatus({
          connectorReference: result.connectorReference,
        });
        expect(status.status).toBe(outcome);
      },
    );

    if (!capabilities.livemode) {
      it('refuses live mode as a test-only connector, without charging', async () => {
        const request = authorizeRequest({ livemode: true });
        const error = await expectConnectorError(fixture.connector.authorize(request), 'invalid_request');
        expect(error.retryable).toBe(false);
        expect(await fixture.countAuthorizations(request.paymentId)).toBe(0);
      });
    }

    it('answers invalid_request for a reference it does not know', async () => {
      const unknown = 'not-a-reference';
      if (statusLookups) {
        await expectConnectorError(
          fixture.connector.getPaymentStatus({ connectorReference: unknown }),
          'invalid_request',
        );
      }
      await expectConnectorError(
        fixture.connector.capture({
          idempotencyKey: key(),
          connectorReference: unknown,
          amount: 1,
          currency: fixture.currency,
        }),
        'invalid_request',
      );
    });

    if (!statusLookups) {
      it('refuses the lookups it cannot answer, without retry, rather than guess', async () => {
        const reference = await authorized(10_000);
        const status = await expectConnectorError(
          connector.getPaymentStatus({ connectorReference: reference }),
          'processor_error',
        );
        expect(status.retryable).toBe(false);
        const lookup = await expectConnectorError(
          connector.lookupPayment({ paymentId: newId('pay') }),
          'processor_error',
        );
        expect(lookup.retryable).toBe(false);
      });
    }

    if (asynchronous) {
      it('reports every modification pending, with the reference its decision carries', async () => {
        const reference = await authorized(10_000);
        const request = {
          idempotencyKey: key(),
          connectorReference: reference,
          amount: 500,
          currency: fixture.currency,
        };
        const pending = await connector.capture(request);
        expect(pending).toEqual({
          status: 'pending',
          connectorReference: reference,
          operationReference: expect.any(String),
        });
        expect(pending.operationReference).not.toBe(reference);
        expect(await fixture.settleOperation!(pending)).toEqual({ ...pending, status: 'succeeded' });
        const refund = await connector.refund({ ...request, idempotencyKey: key() });
        expect(refund.status).toBe('pending');
        expect(refund.operationReference).not.toBe(pending.operationReference);
        expect(await fixture.settleOperation!(refund)).toEqual({ ...refund, status: 'succeeded' });
      });
    }

    if (options.threeDSecureRedirect) {
      it.each(['pass', 'fail'] as const)(
        'runs a 3-D Secure challenge as a redirect finished by completeAction (%s)',
        async (outcome) => {
          const request = authorizeRequest({ method: fixture.challenge!.input });
          const result = await connector.authorize(request);
          expect(result.status).toBe('requires_action');
          if (result.status !== 'requires_action') return;
          expect(result.action.type).toBe('redirect');
          const returnParameters = await fixture.challenge!.complete(result.action.url, outcome);
          const complete = () =>
            connector.completeAction!({
              connectorReference: result.connectorReference,
              paymentId: request.paymentId,
              returnParameters,
            });
          const status = await complete();
          expect(status).toMatchObject({
            connectorReference: result.connectorReference,
            status: outcome === 'pass' ? 'authorized' : 'declined',
            amount: request.amount,
            currency: fixture.currency,
            capturedAmount: 0,
          });
          if (outcome === 'fail') expect(status.declineCode).toBe('authentication_failed');
          // The shopper's browser may come back twice: the same answer, nothing charged twice.
          expect(await complete()).toEqual(status);
          expect(await fixture.countAuthorizations(request.paymentId)).toBe(1);
          // Another payment's return parameters are refused.
          await expectConnectorError(
            connector.completeAction!({
              connectorReference: result.connectorReference,
              paymentId: newId('pay'),
              returnParameters,
            }),
            'invalid_request',
          );
        },
      );
    }

    it('refuses amounts that are not positive integers of minor units', async () => {
      for (const amount of [0, -100, 10.5, Number.NaN]) {
        await expectConnectorError(
          fixture.connector.authorize(authorizeRequest({ amount })),
          'invalid_request',
        );
      }
    });
  });
}
