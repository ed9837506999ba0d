import { isConnectorError } from '../../../connectors/connector.ts';
import { automaticCaptureId } from '../payment.keys.ts';
import { fromAuthorizeResult, type AuthorizationOutcome } from '../payment.outcomes.ts';
import type { Payment } from '../payment.types.ts';
import { connectorOf, type PayCheckoutInput, type PaymentContext } from './payment-context.ts';

const AUTHORIZE_RETRY_DELAYS_MS = [100, 400];

/**
 * The longest step 2 takes when each processor call ends within `callTimeoutMs` (its egress deadline): every
 * try and the pauses between them.
 */
export function authorizeBoundMs(callTimeoutMs: number): number {
  const pauses = AUTHORIZE_RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);
  return (AUTHORIZE_RETRY_DELAYS_MS.length + 1) * callTimeoutMs + pauses;
}

/**
 * Step 2: the processor call. Retryable failures are retried with the same idempotency key. An automatic
 * payment is sent as a sale: the processor captures in the same call when it approves at once, under the
 * automatic capture's id as key — the key step 4 and recovery would capture with, so whatever path asks
 * again after a crash, the money is captured once.
 */
export async function authorize(
  context: PaymentContext,
  payment: Payment,
  input: PayCheckoutInput,
): Promise<AuthorizationOutcome | undefined> {
  const connector = await connectorOf(context, payment);
  const request = {
    idempotencyKey: payment.id,
    paymentId: payment.id,
    amount: payment.amount,
    currency: payment.currency,
    livemode: payment.livemode,
    method: input.method,
    returnUrl: input.returnUrl(payment.id),
    ...(input.shopper ? { shopper: input.shopper } : {}),
  };
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result =
        payment.captureMode === 'automatic'
          ? await connector.sale({ ...request, captureIdempotencyKey: automaticCaptureId(payment.id) })
          : await connector.authorize(request);
      return fromAuthorizeResult(result, payment.amount);
    } catch (error) {
      if (!isConnectorError(error)) throw error;
      if (!error.retryable)
        return { status: 'failed', message: 'The payment processor could not process this payment' };
      const delay = AUTHORIZE_RETRY_DELAYS_MS[attempt];
      // Outcome unknown: the processor may or may not have charged. Leave it "processing" for recovery.
      if (delay === undefined) return undefined;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
