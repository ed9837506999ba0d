import { REFERENCE_PATTERN, type SandboxContext } from './sandbox.context.ts';
import {
  countOperationRows,
  findPaymentRow,
  listOperationRows,
  sumSettledAmounts,
  toAmount,
  type PaymentRow,
} from './sandbox.ledger.ts';
import { listNotificationRows } from './sandbox.ledger-notifications.ts';
import type { SandboxConnector, SandboxPayment } from './sandbox.types.ts';

/** What the sandbox's pages and the tests read of its ledger: a payment, its notifications, the operations. */
export function createSandboxInspection(
  context: SandboxContext,
): Pick<SandboxConnector, 'findPayment' | 'listNotifications' | 'countOperations' | 'listOperations'> {
  const { db, guardLedger } = context;

  function toSandboxPayment(
    row: PaymentRow,
    amounts: { capturedAmount: number; refundedAmount: number },
  ): SandboxPayment {
    return {
      reference: row.reference,
      paymentId: row.payment_id,
      methodType: row.method_type,
      amount: toAmount(row.amount),
      currency: row.currency,
      status: row.status,
      declineCode: row.decline_code,
      actionKind: row.action_kind,
      returnUrl: row.return_url,
      cardBrand: row.card_brand,
      cardLast4: row.card_last4,
      finaliseAt: row.finalise_at,
      createdAt: row.created_at,
      ...amounts,
    };
  }

  return {
    async findPayment(reference) {
      if (!REFERENCE_PATTERN.test(reference)) return null;
      return guardLedger(async () => {
        const row = await findPaymentRow(db, reference);
        return row ? toSandboxPayment(row, await sumSettledAmounts(db, reference)) : null;
      });
    },

    async listNotifications(reference) {
      const rows = await guardLedger(() => listNotificationRows(db, reference));
      return rows.map((row) => ({
        id: row.id,
        status: row.status,
        declineCode: row.decline_code,
        occurredAt: row.occurred_at,
        attempts: row.attempts,
        deliveredAt: row.delivered_at,
        lastError: row.last_error,
      }));
    },

    countOperations: (filter = {}) => guardLedger(() => countOperationRows(db, filter)),

    async listOperations(filter = {}) {
      const rows = await guardLedger(() => listOperationRows(db, filter));
      return rows.map((row) => ({
        id: row.id,
        idempotencyKey: row.idempotency_key,
        kind: row.kind,
        paymentReference: row.payment_reference,
        paymentId: row.payment_id,
        amount: row.amount === null ? null : toAmount(row.amount),
        currency: row.currency,
        outcome: row.outcome,
        failureCode: row.failure_code,
        createdAt: row.created_at,
      }));
    },
  };
}
