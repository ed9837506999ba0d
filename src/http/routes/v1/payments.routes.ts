import { z } from 'zod';
import { AppError, notFoundError } from '../../../lib/errors.ts';
import { newId } from '../../../lib/ids.ts';
import type { Keyring } from '../../../lib/keyring.ts';
import { findOrder } from '../../../modules/orders/order.repository.ts';
import { expansions } from '../../expansions.ts';
import { detectDevice } from '../../../modules/payment-methods/eligibility.ts';
import { refusalError } from '../../../modules/payments/money-operation.ts';
import { presentRefundWithCurrency } from '../../../modules/payments/payment.events.ts';
import {
  captureIdForIdempotencyKey,
  refundIdForIdempotencyKey,
} from '../../../modules/payments/payment.keys.ts';
import { presentCapture, presentPayment } from '../../../modules/payments/payment.presenter.ts';
import {
  listScopedCaptures,
  listScopedRefunds,
} from '../../../modules/payments/money-operation.repository.ts';
import { findPayment, listPaymentsOfOrderPage } from '../../../modules/payments/payment.repository.ts';
import {
  ZCapture,
  ZCaptureBody,
  ZCaptureResult,
  ZCreatePaymentBody,
  ZPayment,
  ZRefund,
  ZRefundBody,
  ZRefundResult,
  type CreatePaymentBody,
} from '../../../modules/payments/payment.schemas.ts';
import type { Capture, Payment } from '../../../modules/payments/payment.types.ts';
import type { PaymentAttempt } from '../../../modules/payments/payment.outcomes.ts';
import { createProcessorApi } from '../../../modules/payments/processor-api.service.ts';
import { assertCardDataPermitted } from '../../../modules/merchants/card-data-permission.service.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { idempotencyHeader, setEquivalentBodies } from '../../idempotency.ts';
import { respondIdempotentlyWithPipeline } from '../../idempotency-pipeline.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';
import { presentCaptureRow, presentRefundRow } from './money-operations.routes.ts';

/**
 * Payments (Processor API and order management: docs/payments.md). Every query is scoped to the caller's merchant and
 * mode; a foreign id answers exactly like a missing one. Every POST reaches the payment processor, so it uses
 * the `pipeline` idempotency (a lease over the processor call; ids derived from the key make a retry after a
 * crash resume the same payment, capture or refund instead of starting another).
 *
 * Status codes: 201 when the operation settled, 202 when the processor's answer is not known yet (the
 * payment is `processing` or the capture/refund PENDING; recovery settles it within about a minute).
 */

const ZPaymentParams = z.object({ id: z.string().max(100).describe('The payment id (pay_…)') });
const ZOrderParams = z.object({ id: z.string().max(100).describe('The order id (ord_…)') });

const IDEMPOTENCY_HEADER = idempotencyHeader(
  'Makes the request safe to retry (kept 24 h); a retry after a crash resumes the same operation',
);

const PENDING_NOTE = '202 when the processor has not answered yet (status PENDING); recovery settles it.';

function presentCaptureResult(capture: Capture, payment: Payment) {
  return { ...presentCapture(capture), currency: payment.currency, payment: presentPayment(payment) };
}

/**
 * The idempotency record keeps a fingerprint of the request body. A plain hash of a body holding a card
 * number and CVC could be brute-forced back (the unknown digits are few), so the card is replaced by a keyed
 * HMAC before the fingerprint is taken: same card → same fingerprint, and nothing recoverable is stored.
 */
function withoutCardSecrets(body: CreatePaymentBody, keyring: Keyring): CreatePaymentBody[] {
  const card = body.payment_method.card;
  if (!card) return [body];
  // Under the current master key first, then each previous one: a request retried across a rotation matches.
  return keyring
    .hmacCandidates('card-fingerprint', `${card.number.replace(/[\s-]/g, '')}:${card.cvc.trim()}`)
    .map((mac) => ({
      ...body,
      payment_method: { ...body.payment_method, card: { ...card, number: mac.toString('hex'), cvc: '' } },
    }));
}

export function registerPaymentRoutes(app: KassaApp, services: Services) {
  const processorApi = createProcessorApi({
    db: services.db,
    clock: services.clock,
    keyring: services.keyring,
    publicUrl: services.config.publicUrl,
    payments: services.payments,
  });

  // expand[] (docs/api-conventions.md §6): a payment's order and checkout; a capture's or refund's payment.
  const paymentExpansions = expansions(services, ZPayment, ['order', 'checkout']);
  const captureExpansions = expansions(services, ZCapture, ['payment']);
  const refundExpansions = expansions(services, ZRefund, ['payment']);

  async function loadPayment(scope: { merchantId: string; livemode: boolean }, id: string): Promise<Payment> {
    const payment = await findPayment(services.db, scope, id);
    if (!payment) throw notFoundError('payment', id);
    return payment;
  }

  app.post(
    '/v1/payments',
    {
      config: { auth: 'merchant', scope: 'payments', idempotency: 'pipeline' },
      schema: {
        tags: ['Payments'],
        summary: 'Pay a checkout server-to-server (Processor API)',
        description:
          'Pays an OPEN checkout with card data, a saved card, an invoice or a wallet, and answers with the payment: ' +
          'SUCCEEDED, AUTHORIZED (manual capture), PENDING, REJECTED (with decline_code) or REQUIRES_ACTION with ' +
          '`next_action.url` for the shopper (3-D Secure). 202 when the processor has not answered yet. Send an ' +
          'Idempotency-Key: a retry then resumes the same payment and never charges twice. Card numbers and CVCs ' +
          'are never stored, logged or returned.',
        headers: IDEMPOTENCY_HEADER,
        body: ZCreatePaymentBody,
        response: { 201: ZPayment, 202: ZPayment },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const scope = { merchantId: principal.merchantId, livemode: principal.livemode };
      const body = request.body;
      if (body.payment_method.card) await assertCardDataPermitted(services, principal.merchantId);
      const device = body.device ?? detectDevice(request.headers['user-agent']);
      const [fingerprinted, ...beforeRotation] = withoutCardSecrets(body, services.keyring);
      request.body = fingerprinted!;
      setEquivalentBodies(request, beforeRotation);
      const respond = ({ payment, outcome }: PaymentAttempt) => ({
        statusCode: outcome === 'processing' ? 202 : 201,
        body: presentPayment(payment),
      });
      // The key's record is claimed with the payment's start and completed with its settlement.
      await respondIdempotentlyWithPipeline(
        request,
        reply,
        services.db,
        async ({ idempotencyKey, record }) =>
          respond(
            await processorApi.pay(scope, body, {
              idempotencyKey,
              device,
              record: record && {
                claim: (tx) => record.claim(tx),
                lost: (error) => record.lost(error),
                complete: (tx, attempt) => record.complete(tx, respond(attempt)),
                verdict: () => record.verdict(),
              },
            }),
          ),
        { joined: true },
      );
      services.outbox.notify();
      return reply;
    },
  );

  app.get(
    '/v1/payments/:id',
    {
      config: { auth: 'merchant', scope: 'payments' },
      schema: {
        tags: ['Payments'],
        summary: 'Retrieve a payment',
        description:
          '`expand[]=order` and `expand[]=checkout` add the order and the checkout next to `order_id` and ' +
          '`checkout_id` (each needs its own read scope: `orders:read`, `checkouts:read`).',
        params: ZPaymentParams,
        querystring: z.object(paymentExpansions.query),
        response: { 200: ZPayment.extend(paymentExpansions.properties) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      return paymentExpansions.one(request, presentPayment(await loadPayment(principal, request.params.id)));
    },
  );

  app.get(
    '/v1/orders/:id/payments',
    {
      config: { auth: 'merchant', scope: 'orders' },
      schema: {
        tags: ['Payments'],
        summary: "List an order's payment attempts, newest first",
        params: ZOrderParams,
        querystring: ZListQuery.extend(paymentExpansions.listQuery),
        response: { 200: ZPage(ZPayment.extend(paymentExpansions.properties)) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const order = await findOrder(services.db, principal, request.params.id);
      if (!order) throw notFoundError('order', request.params.id);
      const page = toPageRequest(request.query);
      const payments = await listPaymentsOfOrderPage(services.db, principal, order.id, page);
      return paymentExpansions.page(
        request,
        toPage(payments, page, presentPayment, (payment) => payment.id),
      );
    },
  );

  app.post(
    '/v1/payments/:id/capture',
    {
      config: { auth: 'merchant', scope: 'payments', idempotency: 'pipeline' },
      schema: {
        tags: ['Payments'],
        summary: 'Capture an authorized payment, fully or in part',
        description:
          'Partial and repeated captures: Σ captures ≤ the authorised amount (422 amount_exceeds_capturable). ' +
          'Where the payment went to a processor that takes one capture per payment (Stripe; Adyen by default), ' +
          'a second capture is refused the same way, with capturable_amount 0. ' +
          `Without an amount, all that remains is captured. 409 from a status other than AUTHORIZED / SUCCEEDED. ${PENDING_NOTE}`,
        headers: IDEMPOTENCY_HEADER,
        params: ZPaymentParams,
        body: ZCaptureBody,
        response: { 201: ZCaptureResult, 202: ZCaptureResult },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      await respondIdempotentlyWithPipeline(request, reply, services.db, async ({ idempotencyKey }) => {
        const payment = await loadPayment(principal, request.params.id);
        const captureId = idempotencyKey
          ? captureIdForIdempotencyKey(principal, payment.id, idempotencyKey)
          : newId('cap');
        const attempt = await services.payments.capturePayment(
          payment,
          request.body?.amount,
          captureId,
          request.body?.metadata,
        );
        if (attempt.refusal) throw refusalError('capture', attempt.payment, attempt.refusal);
        return movementAnswer(
          'capture',
          attempt.capture,
          presentCaptureResult(attempt.capture, attempt.payment),
        );
      });
      services.outbox.notify();
      return reply;
    },
  );

  app.get(
    '/v1/payments/:id/captures',
    {
      config: { auth: 'merchant', scope: 'payments' },
      schema: {
        tags: ['Payments'],
        summary: "List a payment's captures, newest first",
        params: ZPaymentParams,
        querystring: ZListQuery.extend(captureExpansions.listQuery),
        response: { 200: ZPage(ZCapture.extend(captureExpansions.properties)) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const payment = await loadPayment(principal, request.params.id);
      const page = toPageRequest(request.query);
      const rows = await listScopedCaptures(services.db, principal, page, payment.id);
      return captureExpansions.page(
        request,
        toPage(rows, page, presentCaptureRow, (capture) => capture.id),
      );
    },
  );

  app.post(
    '/v1/payments/:id/cancel',
    {
      config: { auth: 'merchant', scope: 'payments', idempotency: 'pipeline' },
      schema: {
        tags: ['Payments'],
        summary: 'Cancel (void) an authorization with nothing captured',
        description:
          'AUTHORIZED → CANCELED, and the order CANCELED. 409 from any other status, or while a capture is in ' +
          'progress. 202 when the processor has not answered yet (the payment stays `processing`; recovery settles it).',
        headers: IDEMPOTENCY_HEADER,
        params: ZPaymentParams,
        response: { 200: ZPayment, 202: ZPayment },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      await respondIdempotentlyWithPipeline(request, reply, services.db, async () => {
        const { payment, pending } = await services.payments.cancelPayment(principal, request.params.id);
        return { statusCode: pending ? 202 : 200, body: presentPayment(payment) };
      });
      services.outbox.notify();
      return reply;
    },
  );

  app.post(
    '/v1/payments/:id/refunds',
    {
      config: { auth: 'merchant', scope: 'payments', idempotency: 'pipeline' },
      schema: {
        tags: ['Payments'],
        summary: 'Refund a captured payment, fully or in part',
        description:
          'Partial and repeated refunds: Σ refunds ≤ captured (422 amount_exceeds_refundable). Without an amount, ' +
          `all that remains refundable is refunded. 409 unless the payment is SUCCEEDED. ${PENDING_NOTE}`,
        headers: IDEMPOTENCY_HEADER,
        params: ZPaymentParams,
        body: ZRefundBody,
        response: { 201: ZRefundResult, 202: ZRefundResult },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const paymentId = request.params.id;
      await respondIdempotentlyWithPipeline(request, reply, services.db, async ({ idempotencyKey }) => {
        const refundId = idempotencyKey
          ? refundIdForIdempotencyKey(principal, paymentId, idempotencyKey)
          : newId('ref');
        const attempt = await services.payments.refundPayment(
          principal,
          paymentId,
          { amount: request.body?.amount, reason: request.body?.reason, metadata: request.body?.metadata },
          refundId,
        );
        if (attempt.refusal) throw refusalError('refund', attempt.payment, attempt.refusal);
        return movementAnswer('refund', attempt.refund, {
          ...presentRefundWithCurrency(attempt.refund, attempt.payment.currency),
          payment: presentPayment(attempt.payment),
        });
      });
      services.outbox.notify();
      return reply;
    },
  );

  app.get(
    '/v1/payments/:id/refunds',
    {
      config: { auth: 'merchant', scope: 'payments' },
      schema: {
        tags: ['Payments'],
        summary: "List a payment's refunds, newest first",
        params: ZPaymentParams,
        querystring: ZListQuery.extend(refundExpansions.listQuery),
        response: { 200: ZPage(ZRefund.extend(refundExpansions.properties)) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const payment = await loadPayment(principal, request.params.id);
      const page = toPageRequest(request.query);
      const rows = await listScopedRefunds(services.db, principal, page, payment.id);
      return refundExpansions.page(
        request,
        toPage(rows, page, presentRefundRow, (refund) => refund.id),
      );
    },
  );
}

/**
 * The answer to a capture or refund the processor took: the same rule for both, so a client handles them
 * alike. 202 while the processor has not answered (recovery settles it), 201 once it has; a row that had
 * already failed (a retry with the key of a failed operation) is a conflict, not a second try.
 */
function movementAnswer<Body>(
  action: 'capture' | 'refund',
  row: { id: string; status: string; failureMessage: string | null },
  body: Body,
): { statusCode: 201 | 202; body: Body } {
  if (row.status === 'FAILED') throw settledFailure(action, row);
  return { statusCode: row.status === 'PENDING' ? 202 : 201, body };
}

/** A row resumed after it had already failed (a retry with the key of a failed operation). */
function settledFailure(
  action: 'capture' | 'refund',
  row: { id: string; failureMessage: string | null },
): AppError {
  return new AppError(
    'conflict',
    `This ${action} (${row.id}) failed: ${row.failureMessage ?? 'refused by the processor'}`,
    {
      extensions: { [`${action}_id`]: row.id },
    },
  );
}
