/**
 * The seam between a real processor's folder (`src/connectors/stripe/`, `src/connectors/adyen/`) and the rest of
 * Kassa. A merchant connects its own processor account (`POST /v1/processor-accounts`); Kassa builds one
 * `Connector` per account from the account's decrypted credentials, and receives that processor's own webhooks
 * at `POST /v1/processor-webhooks/{account id}`, verified and normalized here before anything is applied.
 *
 * Each processor folder exports one `ProcessorModule`. Nothing outside the folder knows a wire format.
 */

import type { z } from 'zod';
import type { EgressClient } from '../egress/index.ts';
import type { Connector, ConnectorNotifySink, DeclineCode, OperationFailureCode } from './connector.ts';

export const PROCESSOR_NAMES = ['sandbox', 'stripe', 'adyen'] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

/** What a connector built for one processor account needs besides the account's credentials. */
export type ProcessorConnectorContext = {
  /** The processor account's id (`pa_…`). It is the connector's `id`, stored on every payment it takes. */
  accountId: string;
  livemode: boolean;
  /**
   * Another base URL for the processor's API (a local fake in tests). Accepted only outside production; absent,
   * the connector uses the processor's real hosts.
   */
  apiBaseUrl?: string;
  /** Every call goes through the egress client: its policy, timeouts and response cap apply. */
  egress: EgressClient;
  /**
   * The account's `multiple_captures`: the processor takes several partial captures of one authorization on
   * this account. Read by a connector whose module says `multipleCaptures: 'account_setting'`; absent = false.
   */
  multipleCaptures?: boolean;
  /** Where the connector reports asynchronous authorization outcomes it learns itself (rarely used). */
  notify: ConnectorNotifySink;
};

/**
 * Why a processor webhook was refused. Nothing is applied; the answer is 400 (malformed, or a notification of
 * the other mode than the account's) or 401 (signature).
 */
export type ProcessorWebhookRefusal =
  'missing_signature' | 'invalid_signature' | 'stale_timestamp' | 'malformed' | 'livemode_mismatch';

export class ProcessorWebhookError extends Error {
  override readonly name = 'ProcessorWebhookError';
  readonly reason: ProcessorWebhookRefusal;
  constructor(reason: ProcessorWebhookRefusal, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * One verified notification, normalized. Delivery is at-least-once and in any order: the consumer stores it
 * first (unique per account and `eventId`), acknowledges, then applies it through the payment state machines,
 * so a duplicate or a late notification changes nothing twice.
 */
export type ProcessorNotification =
  | {
      /** The processor's own id for this event (Stripe `evt_…`; Adyen: pspReference + eventCode + success). */
      eventId: string;
      kind: 'authorization';
      /** Kassa's payment id when the processor echoes it (Stripe metadata, Adyen `merchantReference`). */
      paymentId?: string;
      /** The processor's id of the payment (Stripe PaymentIntent id, Adyen pspReference of the payment). */
      connectorReference: string;
      status: 'authorized' | 'declined' | 'captured';
      declineCode?: DeclineCode;
      occurredAt: Date;
    }
  | {
      eventId: string;
      kind: 'capture' | 'void' | 'refund';
      paymentId?: string;
      connectorReference: string;
      /** The processor's id of the capture, cancel or refund, as the connector returned it as `operationReference`. */
      operationReference: string;
      status: 'succeeded' | 'failed';
      /** Minor units, when the processor says. */
      amount?: number;
      failureCode?: OperationFailureCode;
      occurredAt: Date;
    };

export type VerifiedWebhook = {
  notifications: ProcessorNotification[];
  /** What to answer the processor once the notifications are stored (Adyen wants `[accepted]`). */
  acknowledgement: { contentType: string; body: string };
};

export type ProcessorModule<Credentials extends Record<string, string>> = {
  name: ProcessorName;
  /** Validates `credentials` in `POST /v1/processor-accounts` (snake_case field names, as the API takes them). */
  credentialsSchema: z.ZodType<Credentials>;
  /** Names of the credential fields that are secrets: stored sealed, answered as their last 4 characters only. */
  secretFields: readonly (keyof Credentials & string)[];
  /** The mode the credentials imply (Stripe `sk_live_` → true), or null when they do not say. */
  impliedLivemode(credentials: Credentials): boolean | null;
  /** Extra live-mode requirements (Adyen's `live_url_prefix`): a message naming the missing field, or null. */
  liveRequirement?(credentials: Credentials): { field: string; message: string } | null;
  /** The credential field holding the webhook secret / HMAC key; until it is set, webhooks are refused. */
  webhookSecretField: keyof Credentials & string;
  /**
   * Whether its accounts' payments take several partial captures: fixed by the processor (true, false), or
   * `'account_setting'` when the processor turns it on per account (Adyen's "multiple partial captures"), which
   * Kassa cannot see: the merchant states it with the account's `multiple_captures`.
   */
  multipleCaptures: boolean | 'account_setting';
  createConnector(credentials: Credentials, context: ProcessorConnectorContext): Connector;
  /**
   * Verifies the signature(s) and parses the body; throws `ProcessorWebhookError` on anything wrong. `headers`
   * have lower-case names. `now` is for timestamp tolerance (Stripe: 5 minutes).
   */
  verifyWebhook(input: {
    rawBody: Buffer;
    headers: Record<string, string | undefined>;
    credentials: Credentials;
    /**
     * The account's mode. A processor whose notifications say their own mode (Adyen's `live`) refuses those
     * of the other mode: a test notification must never move a live payment, nor the reverse.
     */
    livemode: boolean;
    now: Date;
  }): VerifiedWebhook;
};
