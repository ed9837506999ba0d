import {
  isConnectorError,
  toAppError,
  type OperationFailureCode,
  type OperationResult,
} from '../../connectors/connector.ts';
import { AppError } from '../../lib/errors.ts';
import type { Payment } from './payment.types.ts';

/** How a capture or refund row ends: the processor's answer, recorded on the child row. */
export type MoneyOperationOutcome = {
  status: 'SUCCEEDED' | 'FAILED';
  connectorReference?: string;
  failureMessage?: string;
};

export type ProcessorRefusal = { code: OperationFailureCode; message: string };

/**
 * Steps 2 and 3 of a capture or refund whose PENDING row is already written: ask the processor (the row id
 * is the idempotency key), then settle the row. Shared so both operations treat every answer alike:
 * - unknown outcome (timeout, unreachable) or `pending` → the row stays PENDING, recovery asks again (a
 *   `pending` row also waits for the processor's notification, which settles it);
 * - the processor failed the request outright → the row FAILS (its amount is available again), coded error;
 * - succeeded / refused → the row is settled; a refusal is reported alongside the attempt.
 */
export async function callAndSettleMoneyOperation<Attempt extends object>(steps: {
  call: () => Promise<OperationResult>;
  settle: (outcome: MoneyOperationOutcome) => Promise<Attempt>;
  /** The answer while the row stays PENDING. */
  unsettled: () => Attempt;
  /** Recorded when the processor failed the request outright. */
  failureMessage: string;
  /**
   * Keeps the processor's id of an operation it accepted for later (`pending`, Adyen's modifications), so
   * the notification that settles it finds the row.
   */
  remember?: (operationReference: string) => Promise<void>;
}): Promise<Attempt & { refusal?: ProcessorRefusal }> {
  let result: OperationResult;
  try {
    result = await steps.call();
  } catch (error) {
    if (isConnectorError(error) && error.retryable) return steps.unsettled();
    if (!isConnectorError(error)) throw error;
    await steps.settle({ status: 'FAILED', failureMessage: steps.failureMessage });
    throw toAppError(error);
  }
  if (result.status === 'pending') {
    await steps.remember?.(result.operationReference);
    return steps.unsettled();
  }
  if (result.status === 'succeeded') {
    return steps.settle({ status: 'SUCCEEDED', connectorReference: result.operationReference });
  }
  const attempt = await steps.settle({
    status: 'FAILED',
    connectorReference: result.operationReference,
    failureMessage: result.message,
  });
  return { ...attempt, refusal: { code: result.failureCode, message: result.message } };
}

/**
 * How a processor's refusal of a capture, void or refund reaches the API: the same coded errors Kassa's own
 * checks give, so a client handles one set of codes whoever refused.
 */
export function refusalError(
  action: 'capture' | 'cancel' | 'refund',
  payment: Payment,
  refusal: ProcessorRefusal,
): AppError {
  const extensions = { current_status: payment.status, processor_message: refusal.message };
  switch (refusal.code) {
    case 'amount_exceeds_authorized':
      return new AppError('amount_exceeds_capturable', refusal.message, { extensions });
    case 'amount_exceeds_captured':
      return new AppError('amount_exceeds_refundable', refusal.message, { extensions });
    case 'invalid_state':
      return new AppError(
        'invalid_state_transition',
        `The payment processor refused to ${action} this payment: ${refusal.message}`,
        {
          extensions: {
            ...extensions,
            allowed_statuses:
              action === 'refund'
                ? ['SUCCEEDED']
                : action === 'cancel'
                  ? ['AUTHORIZED']
                  : ['AUTHORIZED', 'SUCCEEDED'],
          },
        },
      );
    case 'currency_mismatch':
      return new AppError('conflict', refusal.message, { extensions });
    default: {
      const unreachable: never = refusal.code;
      throw new Error(`unhandled refusal ${String(unreachable)}`);
    }
  }
}
