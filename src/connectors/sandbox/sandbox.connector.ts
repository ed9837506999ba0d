import { createHash, randomBytes } from 'node:crypto';
import type { PoolClient } from 'pg';

import { cardLast4, detectCardBrand, normalizeCardNumber } from '../../lib/card.ts';
import { systemClock, type Clock } from '../../lib/clock.ts';
import {
  ConnectorError,
  type AuthorizeRequest,
  type AuthorizeResult,
  type CaptureRequest,
  type Connector,
  type ConnectorNotifySink,
  type ConnectorPaymentStatus,
  type ConnectorStatusUpdate,
  type DeclineCode,
  type OperationFailureCode,
  type OperationResult,
  type RefundRequest,
  type SaleRequest,
  type SaleResult,
  type VoidRequest,
} from '../connector.ts';
import {
  claimNotifications,
  countOperationRows,
  findOperationByKey,
  findPaymentRow,
  findPaymentRowByPaymentId,
  insertAuthorization,
  insertNotification,
  insertOperation,
  listNotificationRows,
  listOperationRows,
  lockDuePendingPayments,
  lockIdempotencyKey,
  markNotificationDelivered,
  markNotificationFailed,
  sumSettledAmounts,
  toAmount,
  updatePaymentStatus,
  type NewOperation,
  type NewPayment,
  type NotificationRow,
  type OperationFilter,
  type OperationRow,
  type PaymentRow,
  type Queryable,
  type SandboxActionKind,
  type SandboxDatabase,
  type SandboxOperationKind,
  type SandboxPaymentStatus,
} from './sandbox.ledger.ts';
import { assertNever, decideAuthorization, SANDBOX_DECLINE_MESSAGES } from './sandbox.scenarios.ts';

export type { SandboxDatabase } from './sandbox.ledger.ts';

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
 */

export const SANDBOX_CONNECTOR_ID = 'sandbox';
export const SANDBOX_PENDING_DELAY_MS = 30_000;
export const SANDBOX_NOTIFY_LEASE_MS = 60_000;
export const SANDBOX_NOTIFY_BACKOFF_BASE_MS = 1_000;
export const SANDBOX_NOTIFY_BACKOFF_MAX_MS = 10 * 60_000;
const DUE_BATCH_SIZE = 100;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export type SandboxFaults = {
  /** Delay before every money-moving call reaches the ledger (kill the process here: nothing happened). */
  latencyMs?: number;
  /** Delay after the ledger committed, before answering (kill the process here: it happened, unanswered). */
  responseDelayMs?: number;
  /** Every Nth money-moving call is refused like a 5xx before touching the ledger: ConnectorError `unavailable`. */
  failEveryNth?: number;
  /** The call is recorded, then the caller waits this long and gets ConnectorError `timeout` instead of the answer. */
  timeoutMs?: number;
  /** Which calls time out when `timeoutMs` is set: every Nth (default 1, i.e. all; see also `timeoutRate`). */
  timeoutEveryNth?: number;
  /** Every notification is delivered twice, as real processors sometimes do. */
  duplicateNotifications?: boolean;
  /**
   * Random variants of `failEveryNth` and `timeoutEveryNth`: the share (0–1) of calls refused before the ledger /
   * timing out after it. A fixed "every Nth" can fall in step with a retry loop that makes N calls per round
   * and fail the same operation forever; a flaky acquirer in a long fault test is better simulated at random.
   */
  failRate?: number;
  timeoutRate?: number;
};

export type SandboxConnectorOptions = {
  db: SandboxDatabase;
  notify: ConnectorNotifySink;
  /** Kassa's public origin; the 3-D Secure and wallet pages live under `${publicBaseUrl}/sandbox/…`. */
  publicBaseUrl: string;
  clock?: Clock;
  /** How long a pending card (4000 0000 0000 0259) waits before `finaliseDuePending` approves it. */
  pendingDelayMs?: number;
  faults?: SandboxFaults;
  /** Told about every failed delivery (which will be retried); the error is also kept on the row. */
  onNotificationError?: (error: unknown, update: ConnectorStatusUpdate) => void;
};

/** The sandbox's view of one authorization, for its own pages and for tests. Never holds a card number. */
export type SandboxPayment = {
  reference: string;
  paymentId: string;
  methodType: PaymentRow['method_type'];
  amount: number;
  currency: string;
  status: SandboxPaymentStatus;
  declineCode: DeclineCode | null;
  actionKind: SandboxActionKind | null;
  returnUrl: string;
  cardBrand: string | null;
  cardLast4: string | null;
  capturedAmount: number;
  refundedAmount: number;
  finaliseAt: Date | null;
  createdAt: Date;
};

export type SandboxOperation = {
  id: string;
  idempotencyKey: string | null;
  kind: SandboxOperationKind;
  paymentReference: string | null;
  paymentId: string | null;
  amount: number | null;
  currency: string | null;
  outcome: string;
  failureCode: string | null;
  createdAt: Date;
};

export type SandboxNotification = {
  id: string;
  status: 'authorized' | 'declined';
  declineCode: DeclineCode | null;
  occurredAt: Date;
  attempts: number;
  deliveredAt: Date | null;
  lastError: string | null;
};

/** The outcome of a sandbox-side decision; `changed` is false when the payment had already been decided. */
export type SandboxResolution = {
  reference: string;
  paymentId: string;
  status: SandboxPaymentStatus;
  declineCode: DeclineCode | null;
  changed: boolean;
  /** Where the 3-D Secure / wallet page sends the shopper afterwards. */
  returnUrl: string;
};

export type SandboxConnector = Connector & {
  /** The 3-D Secure page's "Complete authentication" (`pass`) and "Fail authentication" (`fail`) buttons. */
  completeChallenge(reference: string, outcome: 'pass' | 'fail'): Promise<SandboxResolution>;
  /** The wallet approval page's buttons. */
  completeWallet(reference: string, outcome: 'approve' | 'decline'): Promise<SandboxResolution>;
  /** Finalises a pending payment (invoice, or the pending test card) now. */
  resolvePending(reference: string, outcome: 'SUCCEEDED' | 'REJECTED'): Promise<SandboxResolution>;
  /** Worker step: approves pending cards whose delay has passed. Returns how many were finalised. */
  finaliseDuePending(now?: Date): Promise<number>;
  /** Worker step: delivers notifications the sink has not accepted yet. Returns how many were delivered. */
  redeliverDueNotifications(now?: Date): Promise<number>;
  findPayment(reference: string): Promise<SandboxPayment | null>;
  listNotifications(reference: string): Promise<SandboxNotification[]>;
  countOperations(filter?: OperationFilter): Promise<number>;
  listOperations(filter?: OperationFilter): Promise<SandboxOperation[]>;
  /** Replaces the simulated faults (for fault tests that switch them on and off). */
  setFaults(faults: SandboxFaults): void;
};

type StoredErrorResult = { error: { code: 'processor_error'; message: string } };
type AuthorizeOutcome = SaleResult | StoredErrorResult;

const REFERENCE_PATTERN = /^sbx_[0-9a-f]{32}$/;

function newReference(prefix: 'sbx' | 'sbxop' | 'sbxntf'): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A digest of the request fields that identify it, without the card number or CVC. */
function hashRequest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** A capture's request digest; a sale's capture is stored under it, so a later identical capture replays it. */
function captureRequestHash(reference: string, amount: number | null, currency: string | null): string {
  return hashRequest(['capture', reference, amount, currency]);
}

/** What the authorization part of a (sale) result was: a sale that captured was authorized. */
function authorizationStatusOf(result: SaleResult): AuthorizeResult['status'] {
  return result.status === 'captured' ? 'authorized' : result.status;
}

export function createSandboxConnector(options: SandboxConnectorOptions): SandboxConnector {
  const { db, notify } = options;
  const clock = options.clock ?? systemClock;
  const publicBaseUrl = options.publicBaseUrl.replace(/\/+$/, '');
  const pendingDelayMs = options.pendingDelayMs ?? SANDBOX_PENDING_DELAY_MS;
  let faults: SandboxFaults = { ...options.faults };
  // Counts money-moving calls for the every-Nth faults; per instance, like a flaky link to one acquirer.
  let callCount = 0;

  const fail = (code: ConnectorError['code'], message: string, cause?: unknown) =>
    new ConnectorError(code, message, { connectorId: SANDBOX_CONNECTOR_ID, cause });

  /** Ledger failures look to the caller like an unreachable acquirer: retry with the same key is safe. */
  async function guardLedger<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      throw fail('unavailable', 'The sandbox acquirer could not reach its ledger', error);
    }
  }

  async function inTransaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    const client = await db.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Runs one money-moving call with the configured faults around its ledger transaction. */
  async function withFaults<T>(work: () => Promise<T>): Promise<T> {
    callCount += 1;
    const call = callCount;
    const current = faults;
    if (current.latencyMs) await sleep(current.latencyMs);
    if (
      (current.failEveryNth && call % current.failEveryNth === 0) ||
      Math.random() < (current.failRate ?? 0)
    ) {
      throw fail('unavailable', 'The sandbox acquirer answered 503 Service Unavailable (simulated)');
    }
    const result = await guardLedger(work);
    if (current.responseDelayMs) await sleep(current.responseDelayMs);
    const timesOut =
      current.timeoutRate !== undefined
        ? Math.random() < current.timeoutRate
        : call % (current.timeoutEveryNth ?? 1) === 0;
    if (current.timeoutMs !== undefined && timesOut) {
      await sleep(current.timeoutMs);
      throw fail('timeout', `The sandbox acquirer did not answer within ${current.timeoutMs} ms (simulated)`);
    }
    return result;
  }

  function assertKey(key: string): void {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      throw fail('invalid_request', 'An idempotency key of 1–255 characters is required');
    }
  }

  function assertMoney(amount: number, currency: string): void {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw fail('invalid_request', 'The amount must be a positive integer of minor units');
    }
    if (!/^[A-Z]{3}$/.test(currency)) throw fail('invalid_request', 'The currency must be an ISO 4217 code');
  }

  /** Returns the stored answer for a replayed key, or refuses a key reused for another request. */
  function replay(existing: OperationRow, requestHash: string): unknown {
    if (existing.request_hash !== requestHash) {
      throw fail('invalid_request', 'This idempotency key was already used for a different request');
    }
    return existing.result;
  }

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

  function actionFor(kind: SandboxActionKind, reference: string) {
    const path = kind === 'three_ds' ? '3ds' : 'wallet';
    return { type: 'redirect' as const, url: `${publicBaseUrl}/sandbox/${path}/${reference}` };
  }

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

  function toStatusUpdate(row: NotificationRow): ConnectorStatusUpdate {
    const update: ConnectorStatusUpdate = {
      notificationId: row.id,
      connectorId: SANDBOX_CONNECTOR_ID,
      connectorReference: row.payment_reference,
      paymentId: row.payment_id,
      status: row.status,
      occurredAt: row.occurred_at,
    };
    if (row.decline_code) update.declineCode = row.decline_code;
    return update;
  }

  /** Hands claimed notifications to the sink; a refusal schedules the next attempt with backoff. */
  async function deliver(rows: NotificationRow[]): Promise<number> {
    let delivered = 0;
    for (const row of rows) {
      const update = toStatusUpdate(row);
      try {
        await notify(update);
        if (faults.duplicateNotifications) await notify(update);
        await markNotificationDelivered(db, row.id, clock.now());
        delivered += 1;
      } catch (error) {
        const backoffMs = Math.min(
          SANDBOX_NOTIFY_BACKOFF_BASE_MS * 2 ** Math.max(0, row.attempts - 1),
          SANDBOX_NOTIFY_BACKOFF_MAX_MS,
        );
        const message = error instanceof Error ? error.message : String(error);
        await markNotificationFailed(db, row.id, {
          error: message,
          nextAttemptAt: new Date(clock.now().getTime() + backoffMs),
        }).catch(() => {}); // the lease expires on its own; the row is retried either way
        options.onNotificationError?.(error, update);
      }
    }
    return delivered;
  }

  /**
   * First delivery, right after the decision committed. Never throws: the decision stands whatever happens
   * here, and an undelivered row is due immediately, so `redeliverDueNotifications` picks it up.
   */
  async function deliverNow(notificationIds: string[]): Promise<void> {
    for (const id of notificationIds) {
      try {
        await deliver(await claimNotifications(db, { id }, clock.now(), SANDBOX_NOTIFY_LEASE_MS));
      } catch {
        // Ledger unreachable while claiming: the row stays unclaimed (or its lease expires) and is retried.
      }
    }
  }

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

  /**
   * An authorization, and for a sale (`captureKey` given) its capture when the card is approved at once: the
   * authorize operation (under the request's key), the payment row and the capture operation (under the
   * capture key, answering exactly what `capture` with that key would) are one statement. A sale and an
   * authorization with the same key are the same request (same hash): a retry of either replays the first.
   */
  async function authorizeOrSell(request: AuthorizeRequest, captureKey: string | null): Promise<SaleResult> {
    if (request.livemode) {
      throw fail('invalid_request', 'The sandbox acquirer serves test mode only and never moves real money');
    }
    assertKey(request.idempotencyKey);
    if (captureKey !== null) {
      assertKey(captureKey);
      if (captureKey === request.idempotencyKey) {
        throw fail('invalid_request', 'A sale needs a capture key of its own');
      }
    }
    assertMoney(request.amount, request.currency);
    if (!request.paymentId) throw fail('invalid_request', 'A payment id is required');
    if (!/^https?:\/\//i.test(request.returnUrl ?? '') || !URL.canParse(request.returnUrl)) {
      throw fail('invalid_request', 'The return URL must be an absolute http(s) URL');
    }

    const { method } = request;
    const digits = method.type === 'card' ? normalizeCardNumber(method.card.number) : null;
    const card =
      method.type === 'card'
        ? { brand: digits ? detectCardBrand(digits) : 'unknown', last4: cardLast4(method.card.number) }
        : null;
    const requestHash = hashRequest([
      'authorize',
      request.paymentId,
      request.amount,
      request.currency,
      method.type,
      card?.last4 ?? null,
      method.type === 'card' ? [method.card.expMonth, method.card.expYear] : null,
    ]);

    const outcome = await withFaults(async (): Promise<AuthorizeOutcome> => {
      const now = clock.now();
      const decision = decideAuthorization(method, now);
      const operation = {
        id: newReference('sbxop'),
        idempotencyKey: request.idempotencyKey,
        requestHash,
        kind: 'authorize' as const,
        paymentId: request.paymentId,
        amount: request.amount,
        currency: request.currency,
        createdAt: now,
      };
      let result: AuthorizeOutcome;
      let payment: NewPayment | null = null;
      let capture: NewOperation | null = null;
      if (decision.kind === 'processor_error') {
        result = {
          error: { code: 'processor_error', message: 'The sandbox acquirer failed to process the payment' },
        };
      } else {
        const reference = newReference('sbx');
        let finaliseAt: Date | null = null;
        switch (decision.kind) {
          case 'approve':
            result = { status: 'authorized', connectorReference: reference };
            break;
          case 'decline':
            result = {
              status: 'declined',
              connectorReference: reference,
              declineCode: decision.declineCode,
              message: SANDBOX_DECLINE_MESSAGES[decision.declineCode],
            };
            break;
          case 'action':
            result = {
              status: 'requires_action',
              connectorReference: reference,
              action: actionFor(decision.action, reference),
            };
            break;
          case 'pending':
            result = { status: 'pending', connectorReference: reference };
            if (decision.autoFinalise) finaliseAt = new Date(now.getTime() + pendingDelayMs);
            break;
          default:
            return assertNever(decision);
        }
        payment = {
          reference,
          payment_id: request.paymentId,
          method_type: method.type,
          amount: request.amount,
          currency: request.currency,
          status: result.status,
          decline_code: result.status === 'declined' ? result.declineCode : null,
          action_kind: decision.kind === 'action' ? decision.action : null,
          return_url: request.returnUrl,
          card_brand: card?.brand ?? null,
          card_last4: card?.last4 ?? null,
          finalise_at: finaliseAt,
          created_at: now,
        };
        if (captureKey !== null && result.status === 'authorized') {
          const operationReference = newReference('sbxop');
          const captured: OperationResult = {
            status: 'succeeded',
            connectorReference: reference,
            operationReference,
          };
          capture = {
            id: operationReference,
            idempotencyKey: captureKey,
            // What `capture` hashes: a capture retried with this key replays this one.
            requestHash: captureRequestHash(reference, request.amount, request.currency),
            kind: 'capture',
            paymentReference: reference,
            paymentId: request.paymentId,
            amount: request.amount,
            currency: request.currency,
            outcome: captured.status,
            failureCode: null,
            result: captured,
            createdAt: now,
          };
          result = { status: 'captured', connectorReference: reference, operationReference };
        }
      }
      const recorded = await insertAuthorization(
        db,
        {
          ...operation,
          paymentReference: payment?.reference ?? null,
          // The authorization's own outcome; a sale's capture is the operation next to it.
          outcome: 'error' in result ? 'processor_error' : authorizationStatusOf(result),
          failureCode: 'status' in result && result.status === 'declined' ? result.declineCode : null,
          result,
        },
        payment,
        capture,
      );
      if (recorded) return result;
      // The key was used before (a retry, or a concurrent twin that committed first): its stored answer.
      const existing = await findOperationByKey(db, request.idempotencyKey);
      if (!existing) throw fail('unavailable', 'The sandbox acquirer lost track of this request; retry');
      // The hash starts with the operation kind, so a key first used for a capture never replays here.
      return replay(existing, requestHash) as AuthorizeOutcome;
    });

    if ('error' in outcome) throw fail('processor_error', outcome.error.message);
    return outcome;
  }

  async function authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    const result = await authorizeOrSell(request, null);
    // A replayed sale that captured: as an authorization it is `authorized` (its capture stands under the
    // sale's capture key, which a `capture` with that key replays).
    return result.status === 'captured'
      ? { status: 'authorized', connectorReference: result.connectorReference }
      : result;
  }

  function sale(request: SaleRequest): Promise<SaleResult> {
    return authorizeOrSell(request, request.captureIdempotencyKey ?? '');
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
    authorize,
    sale,
    getPaymentStatus,
    lookupPayment,
    capture,
    void: voidAuthorization,
    refund,

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

    async redeliverDueNotifications(now = clock.now()) {
      return guardLedger(async () => {
        const rows = await claimNotifications(
          db,
          { dueBy: now, limit: DUE_BATCH_SIZE },
          now,
          SANDBOX_NOTIFY_LEASE_MS,
        );
        return deliver(rows);
      });
    },

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

    setFaults(next) {
      faults = { ...next };
    },
  };
}
