import { outcomeOf, type PaymentAttempt, type Settlement } from '../payment.outcomes.ts';
import { captureAutomatically } from './capture-payment.ts';
import type { PaymentContext } from './payment-context.ts';
import { releaseGivenUpPayment } from './release-payment.ts';

/** Whether `settled` is already the attempt's answer: no automatic capture to run, no release owed. */
export function isFinished(settled: Settlement): boolean {
  const { payment } = settled;
  return !settled.releaseOwed && !(payment.status === 'AUTHORIZED' && payment.captureMode === 'automatic');
}

/**
 * Answers an attempt whose outcome is recorded, after its automatic capture (step 4) if it has one, or the
 * release of a late authorization of a given-up payment.
 */
export async function finishAttempt(context: PaymentContext, settled: Settlement): Promise<PaymentAttempt> {
  if (settled.releaseOwed) {
    const released = await releaseGivenUpPayment(context, settled.payment);
    return { payment: released, outcome: outcomeOf(released) };
  }
  if (isFinished(settled)) return { payment: settled.payment, outcome: outcomeOf(settled.payment) };
  const captured = await captureAutomatically(context, settled);
  return { payment: captured, outcome: outcomeOf(captured) };
}
