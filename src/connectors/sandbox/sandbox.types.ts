import type { Clock } from '../../lib/clock.ts';
import type { Connector, ConnectorNotifySink, ConnectorStatusUpdate, DeclineCode } from '../connector.ts';
import type {
  NewOperation,
  OperationFilter,
  PaymentRow,
  SandboxActionKind,
  SandboxDatabase,
  SandboxPaymentStatus,
} from './sandbox.ledger.ts';

/** The sandbox connector's options and the shapes it answers with (`sandbox.connector.ts`). */

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

/** A recorded operation as the sandbox shows it (without what replays check and answer). */
export type SandboxOperation = Omit<NewOperation, 'requestHash' | 'result'>;

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
