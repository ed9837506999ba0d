import { createHmac, timingSafeEqual } from 'node:crypto';

import { ProcessorWebhookError, type ProcessorNotification, type VerifiedWebhook } from '../processor.ts';
import { declineCodeOf, operationFailureCodeOf } from './adyen.mapping.ts';

/**
 * Adyen's Standard webhooks (JSON, "notificationItems"): each item signed on its own with the merchant's HMAC
 * key, per Adyen's "verify HMAC signatures" (HMAC-SHA256 over eight fields joined with ":", key decoded from
 * hex, signature base64 in `additionalData.hmacSignature`).
 */

export type AdyenNotificationItem = {
  additionalData?: Record<string, string>;
  amount: { currency: string; value: number };
  eventCode: string;
  eventDate: string;
  merchantAccountCode: string;
  merchantReference: string;
  originalReference?: string;
  paymentMethod?: string;
  pspReference: string;
  reason?: string;
  success: string;
  operations?: string[];
};

export type AdyenNotificationRequest = {
  live: string;
  notificationItems: { NotificationRequestItem: AdyenNotificationItem }[];
};

/** What Adyen expects back once the items are stored; anything else and it retries the whole batch. */
export const ADYEN_ACKNOWLEDGEMENT = { contentType: 'text/plain', body: '[accepted]' } as const;

/** The string Adyen signs: pspReference, originalReference, merchant account, reference, value, currency, event, success. */
export function adyenSigningString(item: AdyenNotificationItem): string {
  return [
    item.pspReference ?? '',
    item.originalReference ?? '',
    item.merchantAccountCode ?? '',
    item.merchantReference ?? '',
    item.amount?.value ?? '',
    item.amount?.currency ?? '',
    item.eventCode ?? '',
    item.success ?? '',
  ]
    .map(String)
    .join(':');
}

/** Base64 HMAC-SHA256 of the item's signing string with the hex-encoded key. */
export function signAdyenNotificationItem(item: AdyenNotificationItem, hmacKeyHex: string): string {
  return createHmac('sha256', Buffer.from(hmacKeyHex, 'hex'))
    .update(adyenSigningString(item), 'utf8')
    .digest('base64');
}

export function isValidAdyenSignature(item: AdyenNotificationItem, hmacKeyHex: string): boolean {
  const given = item.additionalData?.hmacSignature;
  if (typeof given !== 'string' || given === '') return false;
  const expected = Buffer.from(signAdyenNotificationItem(item, hmacKeyHex), 'base64');
  const actual = Buffer.from(given, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const HANDLED_EVENTS = new Set([
  'AUTHORISATION',
  'CAPTURE',
  'CAPTURE_FAILED',
  'CANCELLATION',
  'REFUND',
  'REFUND_FAILED',
]);

/**
 * Verifies every item of a batch and normalizes the ones Kassa acts on. One item with a missing or wrong
 * signature refuses the whole batch (nothing of it is applied; Adyen delivers it again). Items of other
 * event codes or merchant accounts are verified too, then acknowledged without a notification.
 */
export function verifyAdyenWebhook(input: {
  rawBody: Buffer;
  hmacKey: string | undefined;
  /** Items of another merchant account (a company-level webhook) are verified, then left alone. */
  merchantAccount: string;
  /** The processor account's mode: a batch whose `live` says the other mode is refused whole. */
  livemode: boolean;
}): VerifiedWebhook {
  if (!input.hmacKey) {
    throw new ProcessorWebhookError('missing_signature', 'No HMAC key is set for this processor account yet');
  }
  const request = parseRequest(input.rawBody);
  const notifications: ProcessorNotification[] = [];
  for (const { NotificationRequestItem: item } of request.notificationItems) {
    if (typeof item.additionalData?.hmacSignature !== 'string' || item.additionalData.hmacSignature === '') {
      throw new ProcessorWebhookError(
        'missing_signature',
        `Notification item ${item.pspReference} is not signed`,
      );
    }
    if (!isValidAdyenSignature(item, input.hmacKey)) {
      throw new ProcessorWebhookError(
        'invalid_signature',
        `The HMAC signature of notification item ${item.pspReference} does not match`,
      );
    }
  }
  // A notification of the other environment is a webhook registered at the wrong account's URL; applying it
  // would let Adyen's test platform move a live payment (or the reverse). `live` is not signed, but a wrong
  // value can only refuse an authentic batch, never apply a forged one.
  const live = request.live === 'true';
  if (live !== input.livemode) {
    throw new ProcessorWebhookError(
      'livemode_mismatch',
      `This notification comes from Adyen's ${live ? 'live' : 'test'} environment (live: "${request.live}"), ` +
        `but this processor account is in ${input.livemode ? 'live' : 'test'} mode: register each Adyen ` +
        "environment's webhook at the webhook_url of the Kassa account of the same mode",
    );
  }
  for (const { NotificationRequestItem: item } of request.notificationItems) {
    if (item.merchantAccountCode !== input.merchantAccount) continue;
    const notification = normalizeAdyenNotification(item);
    if (notification) notifications.push(notification);
  }
  return { notifications, acknowledgement: { ...ADYEN_ACKNOWLEDGEMENT } };
}

/** One verified item → Kassa's normalized notification, or null for an event Kassa does not act on. */
export function normalizeAdyenNotification(item: AdyenNotificationItem): ProcessorNotification | null {
  if (!HANDLED_EVENTS.has(item.eventCode)) return null;
  const success = item.success === 'true';
  const eventId = `${item.pspReference}:${item.eventCode}:${item.success}`;
  const occurredAt = new Date(item.eventDate);
  const paymentId = item.merchantReference || undefined;
  if (item.eventCode === 'AUTHORISATION') {
    return {
      eventId,
      kind: 'authorization',
      ...(paymentId === undefined ? {} : { paymentId }),
      connectorReference: item.pspReference,
      status: success ? 'authorized' : 'declined',
      ...(success ? {} : { declineCode: declineCodeOf({ reason: item.reason }) }),
      occurredAt,
    };
  }
  const kind =
    item.eventCode === 'CANCELLATION' ? 'void' : item.eventCode.startsWith('CAPTURE') ? 'capture' : 'refund';
  // CAPTURE_FAILED / REFUND_FAILED come later than a successful CAPTURE / REFUND: the bank refused after all.
  const failed = !success || item.eventCode.endsWith('_FAILED');
  return {
    eventId,
    kind,
    ...(paymentId === undefined ? {} : { paymentId }),
    connectorReference: item.originalReference ?? '',
    operationReference: item.pspReference,
    status: failed ? 'failed' : 'succeeded',
    amount: item.amount.value,
    ...(failed ? { failureCode: operationFailureCodeOf(kind, item.reason) } : {}),
    occurredAt,
  };
}

function parseRequest(rawBody: Buffer): AdyenNotificationRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new ProcessorWebhookError('malformed', 'The webhook body is not JSON');
  }
  const request = parsed as Partial<AdyenNotificationRequest> | null;
  if (!request || typeof request !== 'object' || !Array.isArray(request.notificationItems)) {
    throw new ProcessorWebhookError('malformed', 'The webhook body has no notificationItems');
  }
  if (request.live !== 'true' && request.live !== 'false') {
    throw new ProcessorWebhookError('malformed', 'The webhook body\'s "live" is neither "true" nor "false"');
  }
  if (request.notificationItems.length === 0) {
    throw new ProcessorWebhookError('malformed', 'The webhook body has no notification items');
  }
  for (const wrapper of request.notificationItems) {
    const item = (wrapper as { NotificationRequestItem?: unknown } | null)?.NotificationRequestItem as
      Partial<AdyenNotificationItem> | undefined;
    if (
      !item ||
      typeof item.pspReference !== 'string' ||
      typeof item.eventCode !== 'string' ||
      typeof item.success !== 'string' ||
      typeof item.eventDate !== 'string' ||
      Number.isNaN(new Date(item.eventDate).getTime()) ||
      typeof item.merchantAccountCode !== 'string' ||
      !item.amount ||
      typeof item.amount.value !== 'number' ||
      !Number.isInteger(item.amount.value) ||
      typeof item.amount.currency !== 'string'
    ) {
      throw new ProcessorWebhookError('malformed', 'A notification item lacks a required field');
    }
    if (
      item.additionalData !== undefined &&
      (typeof item.additionalData !== 'object' || item.additionalData === null)
    ) {
      throw new ProcessorWebhookError('malformed', 'A notification item has malformed additionalData');
    }
  }
  return request as AdyenNotificationRequest;
}
