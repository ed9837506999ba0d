import {
  type CaptureRequest,
  type ConnectorPaymentStatus,
  type OperationFailureCode,
  type OperationResult,
  type RefundRequest,
  type VoidRequest,
} from '../connector.ts';
import { createSandboxActions } from './sandbox.actions.ts';
import { createSandboxAuthorization } from './sandbox.authorize.ts';
import {
  REFERENCE_PATTERN,
  SANDBOX_CONNECTOR_ID,
  assertKey,
  assertMoney,
  captureRequestHash,
  createSandboxContext,
  fail,
  hashRequest,
  newReference,
  replay,
} from './sandbox.context.ts';
import { createSandboxInspection } from './sandbox.inspect.ts';
import {
  findOperationByKey,
  findPaymentRow,
  findPaymentRowByPaymentId,
  insertOperation,
  lockIdempotencyKey,
  sumSettledAmounts,
  toAmount,
  updatePaymentStatus,
  type PaymentRow,
} from './sandbox.ledger.ts';
import { createSandboxNotifications } from './sandbox.notifications.ts';
import type { SandboxConnector, SandboxConnectorOptions } from './sandbox.types.ts';

export type { SandboxDatabase } from './sandbox.ledger.ts';
export {
  SANDBOX_CONNECTOR_ID,
  SANDBOX_NOTIFY_BACKOFF_BASE_MS,
  SANDBOX_NOTIFY_BACKOFF_MAX_MS,
  SANDBOX_NOTIFY_LEASE_MS,
  SANDBOX_PENDING_DELAY_MS,
} from './sandbox.context.ts';
export type * from './sandbox.types.ts';

/**
 * The sandbox acquirer: a simulated bank behind the same `Connector` interface as any real processor,
 * with its own persistent ledger (migration 0003), so it survives gateway restarts and fault tests can
 * compare Kassa's objects with what the "bank" actually did. Test mode only.
 *
 * Design notes:
 * - An authorization (or a sale: the authorization and its capture) is one statement whose unique key on
 *   the idempotency key decides; capture / void / refund run in one ledger transaction that first takes an
 *   advisory lock on the key, then a row lock on the authorization. So the same key never acts twice, and
 *   parallel captures or refunds can never exceed the authorised / captured amount.
 * - The answer is recorded with the operation. A replay (same key, same request) returns it unchanged, even
 *   if the payment has moved on since; a key reused for a different request is `invalid_request`.
 * - Simulated faults happen either before the ledger is touched (`failEveryNth`: nothing happened, safe to
 *   retry) or after the commit (`timeoutMs`: the operation happened, the answer is lost); the retry with
 *   the same key then returns the original result, which is exactly what fault tests need to prove.
 * - Asynchronous decisions are written to a notification table in the same transaction and delivered to
 *   the `notify` sink afterwards, then again until the sink accepts (at-least-once; the consumer dedupes
 *   by `notificationId`).
 *
 * This file holds the money operations (capture, void, refund) and status reads; `sandbox.authorize.ts`
 * authorizations and sales, `sandbox.actions.ts` the sandbox's own decisions (3-D Secure, wallet, pending),
 * `sandbox.notifications.ts` their delivery, `sandbox.inspect.ts` what pages and tests read, and
 * `sandbox.context.ts` what they share.
 */

export function createSandboxConnector(options: SandboxConnectorOptions): SandboxConnector {
  const context = createSandboxContext(options);
  const { db, clock, guardLedger, inTransaction, withFaults, actionFor } = context;
  const notifications = createSandboxNotifications(context);

  function toPaymentStatus(
    row: PaymentRow,
    amounts: { capturedAmount: number; refundedAmount: number },
  ): ConnectorPaymentStatus {
    const status: ConnectorPaymentStatus = {
      connectorReference: row.reference,
      status: row.status,
      amount: toAmount(row.amount),
      currency: row.currency,
      ...amounts,
    };
    if (row.decline_code) status.declineCode = row.decline_code;
    if (row.status === 'requires_action' && row.action_kind) {
      status.action = actionFor(row.action_kind, row.reference);
    }
    return status;
  }

  /**
   * The shared pipeline of capture, void and refund: key lock → replay check → payment row lock → guard
   * (state, currency, remaining amount) → append the operation. Refusals are recorded under the key too,
   * so a retry gets the same refusal.
   */
  async function operate(
    kind: 'capture' | 'void' | 'refund',
    request: { idempotencyKey: string; connectorReference: string; amount?: number; currency?: string },
    guard: (
      payment: PaymentRow,
      amounts: { capturedAmount: number; refundedAmount: number },
    ) => { failureCode: OperationFailureCode; message: string } | null,
  ): Promise<OperationResult> {
    assertKey(request.idempotencyKey);
    if (request.amount !== undefined || request.currency !== undefined) {
      assertMoney(request.amount ?? NaN, request.currency ?? '');
    }
    const requestHash =
      kind === 'capture'
        ? captureRequestHash(request.connectorReference, request.amount ?? null, request.currency ?? null)
        : hashRequest([kind, request.connectorReference, request.amount ?? null, request.currency ?? null]);

    return withFaults(() =>
      inTransaction(async (tx) => {
        await lockIdempotencyKey(tx, request.idempotencyKey);
        const existing = await findOperationByKey(tx, request.idempotencyKey);
        if (existing) return replay(existing, requestHash) as OperationResult;

        const payment = REFERENCE_PATTERN.test(request.connectorReference)
          ? await findPaymentRow(tx, request.connectorReference, { forUpdate: true })
          : undefined;
        if (!payment) throw fail('invalid_request', `No sandbox payment ${request.connectorReference}`);

        const operationReference = newReference('sbxop');
        const refusal =
          request.currency !== undefined && request.currency !== payment.currency
            ? { failureCode: 'currency_mismatch' as const, message: `The payment is in ${payment.currency}` }
            : guard(payment, await sumSettledAmounts(tx, payment.reference));
        const result: OperationResult = refusal
          ? { status: 'failed', connectorReference: payment.reference, operationReference, ...refusal }
          : { status: 'succeeded', connectorReference: payment.reference, operationReference };

        const now = clock.now();
        if (kind === 'void' && !refusal) {
          await updatePaymentStatus(tx, payment.reference, { status: 'voided', declineCode: null, now });
        }
        await insertOperation(tx, {
          id: operationReference,
          idempotencyKey: request.idempotencyKey,
          requestHash,
          kind,
          paymentReference: payment.reference,
          paymentId: payment.payment_id,
          amount: request.amount ?? null,
          currency: request.currency ?? payment.currency,
          outcome: result.status,
          failureCode: refusal?.failureCode ?? null,
          result,
          createdAt: now,
        });
        return result;
      }),
    );
  }

  const notAuthorized = (payment: PaymentRow, action: string) => ({
    failureCode: 'invalid_state' as const,
    message: `Cannot ${action} a payment whose status is ${payment.status}; allowed: authorized`,
  });

  function capture(request: CaptureRequest): Promise<OperationResult> {
    return operate('capture', request, (payment, { capturedAmount }) => {
      if (payment.status !== 'authorized') return notAuthorized(payment, 'capture');
      const capturable = toAmount(payment.amount) - capturedAmount;
      if (request.amount > capturable) {
        return {
          failureCode: 'amount_exceeds_authorized',
          message: `At most ${capturable} can still be captured`,
        };
      }
      return null;
    });
  }

  function voidAuthorization(request: VoidRequest): Promise<OperationResult> {
    return operate('void', request, (payment, { capturedAmount }) => {
      if (payment.status !== 'authorized') return notAuthorized(payment, 'void');
      if (capturedAmount > 0) {
        return {
          failureCode: 'invalid_state',
          message: 'Cannot void a payment that has been captured; refund it',
        };
      }
      return null;
    });
  }

  function refund(request: RefundRequest): Promise<OperationResult> {
    return operate('refund', request, (payment, { capturedAmount, refundedAmount }) => {
      if (payment.status !== 'authorized') return notAuthorized(payment, 'refund');
      const refundable = capturedAmount - refundedAmount;
      if (request.amount > refundable) {
        return {
          failureCode: 'amount_exceeds_captured',
          message: `At most ${refundable} can still be refunded`,
        };
      }
      return null;
    });
  }

  async function getPaymentStatus({
    connectorReference,
  }: {
    connectorReference: string;
  }): Promise<ConnectorPaymentStatus> {
    return guardLedger(async () => {
      const row = REFERENCE_PATTERN.test(connectorReference)
        ? await findPaymentRow(db, connectorReference)
        : undefined;
      if (!row) throw fail('invalid_request', `No sandbox payment ${connectorReference}`);
      return toPaymentStatus(row, await sumSettledAmounts(db, row.reference));
    });
  }

  async function lookupPayment({ paymentId }: { paymentId: string }): Promise<ConnectorPaymentStatus | null> {
    return guardLedger(async () => {
      const row = await findPaymentRowByPaymentId(db, paymentId);
      return row ? toPaymentStatus(row, await sumSettledAmounts(db, row.reference)) : null;
    });
  }

  return {
    id: SANDBOX_CONNECTOR_ID,
    capabilities: {
      methods: ['card', 'invoice', 'wallet'],
      livemode: false,
      partialCapture: true,
      multipleCaptures: true,
      partialRefund: true,
    },
    ...createSandboxAuthorization(context),
    getPaymentStatus,
    lookupPayment,
    capture,
    void: voidAuthorization,
    refund,
    ...createSandboxActions(context, notifications),
    redeliverDueNotifications: (now = clock.now()) => notifications.redeliverDue(now),
    ...createSandboxInspection(context),
    setFaults: context.setFaults,
  };
}
