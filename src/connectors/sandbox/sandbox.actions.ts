import type { DeclineCode } from '../connector.ts';
import {
  DUE_BATCH_SIZE,
  REFERENCE_PATTERN,
  fail,
  newReference,
  type SandboxContext,
} from './sandbox.context.ts';
import {
  findPaymentRow,
  insertOperation,
  lockDuePendingPayments,
  toAmount,
  updatePaymentStatus,
  type PaymentRow,
  type Queryable,
} from './sandbox.ledger.ts';
import { insertNotification } from './sandbox.ledger-notifications.ts';
import type { SandboxNotifications } from './sandbox.notifications.ts';
import type { SandboxConnector, SandboxResolution } from './sandbox.types.ts';

/**
 * The sandbox's own decisions on a payment waiting for one: the 3-D Secure and wallet pages' buttons, the
 * resolution of a pending payment, and the worker step that approves pending cards whose delay has passed.
 * Each is written with its notification in one ledger transaction, then notified.
 */
export function createSandboxActions(
  context: SandboxContext,
  notifications: SandboxNotifications,
): Pick<SandboxConnector, 'completeChallenge' | 'completeWallet' | 'resolvePending' | 'finaliseDuePending'> {
  const { clock, guardLedger, inTransaction } = context;
  const { deliverNow } = notifications;

  /** Records an asynchronous decision on a locked payment, with its notification, in the caller's transaction. */
  async function recordDecision(
    tx: Queryable,
    payment: PaymentRow,
    status: 'authorized' | 'declined',
    declineCode: DeclineCode | null,
  ): Promise<string> {
    const now = clock.now();
    await updatePaymentStatus(tx, payment.reference, { status, declineCode, now });
    await insertOperation(tx, {
      id: newReference('sbxop'),
      idempotencyKey: null,
      requestHash: null,
      kind: 'resolve',
      paymentReference: payment.reference,
      paymentId: payment.payment_id,
      amount: toAmount(payment.amount),
      currency: payment.currency,
      outcome: status,
      failureCode: declineCode,
      result: declineCode ? { status, declineCode } : { status },
      createdAt: now,
    });
    const notificationId = newReference('sbxntf');
    await insertNotification(tx, {
      id: notificationId,
      payment_reference: payment.reference,
      payment_id: payment.payment_id,
      status,
      decline_code: declineCode,
      occurred_at: now,
    });
    return notificationId;
  }

  /**
   * The shared path of every sandbox-side decision: lock the payment, check it awaits this kind of
   * decision, record it, then notify. A payment that was already decided is returned unchanged, so a
   * double click on the 3-D Secure page or a repeated resolve call is harmless.
   */
  async function decide(
    reference: string,
    isKind: (row: PaymentRow) => boolean,
    what: string,
    status: 'authorized' | 'declined',
    declineCode: DeclineCode | null,
  ): Promise<SandboxResolution> {
    if (!REFERENCE_PATTERN.test(reference)) throw fail('invalid_request', `No sandbox payment ${reference}`);
    const { row, notificationId } = await guardLedger(() =>
      inTransaction(async (tx) => {
        const payment = await findPaymentRow(tx, reference, { forUpdate: true });
        if (!payment) throw fail('invalid_request', `No sandbox payment ${reference}`);
        if (!isKind(payment)) throw fail('invalid_request', `Sandbox payment ${reference} is not ${what}`);
        if (payment.status !== 'requires_action' && payment.status !== 'pending') {
          return { row: payment, notificationId: null };
        }
        const id = await recordDecision(tx, payment, status, declineCode);
        return { row: { ...payment, status, decline_code: declineCode }, notificationId: id };
      }),
    );
    if (notificationId) await deliverNow([notificationId]);
    return {
      reference: row.reference,
      paymentId: row.payment_id,
      status: row.status,
      declineCode: row.decline_code,
      changed: notificationId !== null,
      returnUrl: row.return_url,
    };
  }

  return {
    completeChallenge(reference, outcome) {
      const passed = outcome === 'pass';
      return decide(
        reference,
        (row) => row.action_kind === 'three_ds',
        'a 3-D Secure payment',
        passed ? 'authorized' : 'declined',
        passed ? null : 'authentication_failed',
      );
    },

    completeWallet(reference, outcome) {
      const approved = outcome === 'approve';
      return decide(
        reference,
        (row) => row.action_kind === 'wallet',
        'a wallet payment',
        approved ? 'authorized' : 'declined',
        approved ? null : 'payment_rejected',
      );
    },

    resolvePending(reference, outcome) {
      const succeeded = outcome === 'SUCCEEDED';
      return decide(
        reference,
        // Invoices and the pending test card; a payment waiting for the shopper is decided by the shopper.
        (row) => row.action_kind === null,
        'a payment that can be pending',
        succeeded ? 'authorized' : 'declined',
        succeeded ? null : 'payment_rejected',
      );
    },

    async finaliseDuePending(now = clock.now()) {
      const notificationIds = await guardLedger(() =>
        inTransaction(async (tx) => {
          const due = await lockDuePendingPayments(tx, now, DUE_BATCH_SIZE);
          const ids: string[] = [];
          for (const payment of due) ids.push(await recordDecision(tx, payment, 'authorized', null));
          return ids;
        }),
      );
      await deliverNow(notificationIds);
      return notificationIds.length;
    },
  };
}
