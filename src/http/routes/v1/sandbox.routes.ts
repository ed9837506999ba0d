import { z } from 'zod';
import { isConnectorError, toAppError } from '../../../connectors/connector.ts';
import { AppError, invalidStateError, notFoundError } from '../../../lib/errors.ts';
import { presentPayment } from '../../../modules/payments/payment.presenter.ts';
import { findPayment } from '../../../modules/payments/payment.repository.ts';
import { PAYMENT_STATUSES } from '../../../modules/payments/payment.states.ts';
import type { Services } from '../../../services.ts';
import { respondIdempotentlyWithPipeline } from '../../idempotency-pipeline.ts';
import type { MerchantPrincipal } from '../../../modules/merchants/merchant.types.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';

/**
 * Test-mode controls of the sandbox acquirer (docs/test-cards.md).
 *
 * `POST /v1/sandbox/payments/{id}/resolve {outcome}` finalises a pending payment (invoice, or the pending
 * test card) as the acquirer would later on its own: the sandbox records the decision and notifies the
 * payment flow through the same path as a real processor's webhook, which moves the payment, its order and
 * their events. The answer is the payment after that.
 */

const ZResolveBody = z.strictObject({
  outcome: z
    .enum(['SUCCEEDED', 'REJECTED'])
    .describe('SUCCEEDED: the acquirer approves; REJECTED: it declines'),
});

const ZSandboxPayment = z.looseObject({
  object: z.literal('payment'),
  id: z.string(),
  livemode: z.boolean(),
  checkout_id: z.string(),
  order_id: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  method: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  captured_amount: z.number().int(),
  decline_code: z.string().nullable(),
  created_at: z.string(),
});

export function registerSandboxRoutes(
  app: KassaApp,
  services: Pick<Services, 'db' | 'sandbox' | 'connectors'>,
) {
  app.post(
    '/v1/sandbox/payments/:id/resolve',
    {
      // Pipeline, like the payment routes: the effect is a call to the sandbox acquirer (outside our
      // transaction), so the key's record holds a lease across it and then stores the answer. A repeat with the
      // same key and body replays that answer (the payment as the resolution left it, even if it has moved on
      // since), and parallel repeats wait on the lease (409 idempotency_key_in_use) instead of resolving too.
      config: { auth: 'merchant', scope: 'payments', idempotency: 'pipeline' },
      schema: {
        tags: ['Sandbox'],
        summary:
          'Test mode: finalise a pending payment (invoice or the pending test card) as SUCCEEDED or REJECTED',
        params: z.object({ id: z.string().max(100).describe('The payment id (pay_…)') }),
        body: ZResolveBody,
        response: { 200: ZSandboxPayment },
      },
    },
    async (request, reply) => {
      const scope = requireMerchant(request);
      if (scope.livemode) {
        throw new AppError(
          'livemode_not_allowed',
          'The sandbox acquirer serves test mode only; use test-mode credentials',
        );
      }
      await respondIdempotentlyWithPipeline(request, reply, services.db, async () => ({
        statusCode: 200,
        body: await resolvePayment(scope, request.params.id, request.body.outcome),
      }));
      return reply;
    },
  );

  /** Has the sandbox acquirer decide the pending payment; answers the payment after that. */
  async function resolvePayment(
    scope: MerchantPrincipal,
    paymentId: string,
    outcome: 'SUCCEEDED' | 'REJECTED',
  ): Promise<ReturnType<typeof presentPayment>> {
    const payment = await findPayment(services.db, scope, paymentId);
    if (!payment) throw notFoundError('payment', paymentId);
    // The built-in sandbox, or a sandbox processor account (which shares its ledger).
    const account =
      payment.connectorId === services.sandbox.id
        ? undefined
        : await services.connectors.accountOf(payment.connectorId);
    const onSandbox = account === undefined || account.processor === 'sandbox';
    if (!onSandbox || !payment.connectorReference) {
      throw invalidStateError(
        'payment',
        payment.processingSince ? 'processing' : payment.status,
        ['PENDING'],
        'resolve',
      );
    }
    try {
      await services.sandbox.resolvePending(payment.connectorReference, outcome);
    } catch (error) {
      // The sandbox refuses payments that wait for the shopper (3-D Secure, wallet): they are decided there.
      if (!isConnectorError(error)) throw error;
      if (error.code === 'invalid_request')
        throw invalidStateError('payment', payment.status, ['PENDING'], 'resolve');
      throw toAppError(error);
    }
    const resolved = await findPayment(services.db, scope, payment.id);
    return presentPayment(resolved ?? payment);
  }
}
