import { z } from 'zod';
import { zMetadata, zMetadataOut } from '../../lib/metadata.ts';
import { DEVICES, PAYMENT_METHOD_TYPES } from '../payment-methods/eligibility.ts';
import { PAYMENT_STATUSES } from './payment.states.ts';

/** Request and response schemas of the payment routes (they also generate the OpenAPI components). */

const zTimestamp = z.iso.datetime({ offset: true }).describe('RFC 3339 UTC timestamp');
const zMinor = z.number().int().describe('Minor units of `currency`');
const MONEY_OPERATION_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;

export const ZPayment = z
  .object({
    object: z.literal('payment'),
    id: z.string(),
    livemode: z.boolean(),
    checkout_id: z.string(),
    order_id: z.string(),
    status: z.enum(PAYMENT_STATUSES),
    processing: z
      .boolean()
      .describe('True while a processor call is in flight; the status is settled shortly (or by recovery)'),
    channel: z.enum(['hosted_page', 'api']),
    method: z.enum(PAYMENT_METHOD_TYPES),
    amount: zMinor,
    currency: z.string(),
    capture_mode: z.enum(['automatic', 'manual']),
    authorized_amount: zMinor,
    captured_amount: zMinor,
    refunded_amount: zMinor,
    card: z
      .object({
        brand: z.string(),
        last4: z.string(),
        exp_month: z.number().int(),
        exp_year: z.number().int(),
      })
      .nullable()
      .describe('Display data only: never the number or the CVC'),
    saved_payment_method_id: z.string().nullable(),
    metadata: zMetadataOut,
    next_action: z
      .object({ type: z.literal('redirect'), url: z.string() })
      .nullable()
      .describe('REQUIRES_ACTION: send the shopper to `url` (3-D Secure, wallet approval)'),
    decline_code: z.string().nullable(),
    failure_message: z.string().nullable(),
    version: z.number().int(),
    created_at: zTimestamp,
    updated_at: zTimestamp,
  })
  .meta({ id: 'Payment' });

const moneyOperationFields = {
  id: z.string(),
  livemode: z.boolean(),
  payment_id: z.string(),
  amount: zMinor,
  currency: z.string(),
  status: z
    .enum(MONEY_OPERATION_STATUSES)
    .describe('PENDING: the processor has not answered yet; recovery asks again'),
  failure_message: z.string().nullable(),
  metadata: zMetadataOut,
  created_at: zTimestamp,
  updated_at: zTimestamp,
};

export const ZCapture = z
  .object({ object: z.literal('capture'), ...moneyOperationFields })
  .meta({ id: 'Capture' });

export const ZRefund = z
  .object({ object: z.literal('refund'), ...moneyOperationFields, reason: z.string().nullable() })
  .meta({ id: 'Refund' });

/** The answer to a capture or refund request: the child row and its payment after it. */
export const ZCaptureResult = ZCapture.extend({ payment: ZPayment }).meta({ id: 'CaptureResult' });
export const ZRefundResult = ZRefund.extend({ payment: ZPayment }).meta({ id: 'RefundResult' });

/** The amount of a capture or refund: optional, all that can still be `done` by default. */
const optionalAmount = (done: 'captured' | 'refunded') =>
  z.number().int().min(1).optional().describe(`Minor units; default: all that can still be ${done}`);

export const ZCaptureBody = z
  .strictObject({
    amount: optionalAmount('captured'),
    metadata: zMetadata.optional(),
  })
  .nullish()
  .describe('Optional: a request without a body captures all that remains');

export const ZRefundBody = z
  .strictObject({
    amount: optionalAmount('refunded'),
    reason: z.string().trim().min(1).max(500).optional().describe('Free text kept with the refund'),
    metadata: zMetadata.optional(),
  })
  .nullish()
  .describe('Optional: a request without a body refunds all that remains');

/**
 * Card data as the Processor API receives it. Only the shape is checked here; Luhn, expiry and CVC are
 * checked by `checkApiCardInput` (processor-api.service.ts, over card-input.ts), so each problem gets its
 * own pointer and a clear message.
 */
const ZCardInput = z.strictObject({
  number: z.string().max(30).describe('The card number (spaces and dashes allowed). Never stored or logged.'),
  exp_month: z.number().int().describe('1–12'),
  exp_year: z.number().int().describe('Four digits (two are read as 20YY)'),
  cvc: z.string().max(8).describe('Never stored or logged'),
  holder_name: z.string().max(200).describe('Name on card'),
});

export const ZCreatePaymentBody = z.strictObject({
  checkout_id: z.string().max(100).describe('An OPEN checkout of the caller (chk_…)'),
  payment_method: z
    .strictObject({
      type: z
        .enum(PAYMENT_METHOD_TYPES)
        .optional()
        .describe('card (with `card` or `saved_payment_method_id`), invoice or wallet'),
      card: ZCardInput.optional(),
      saved_payment_method_id: z
        .string()
        .max(100)
        .optional()
        .describe(
          "A card the checkout's customer saved (pm_…). Charged through the sandbox only: refused (422 " +
            "saved_card_sandbox_only) when the checkout's cards go to a Stripe or Adyen account",
        ),
    })
    .describe(
      'Exactly one of: {type: card, card: {...}}, {saved_payment_method_id}, {type: invoice}, {type: wallet}',
    ),
  device: z
    .enum(DEVICES)
    .optional()
    .describe("The shopper's device (method eligibility); default: from the User-Agent"),
  metadata: zMetadata.optional(),
});

export type CreatePaymentBody = z.infer<typeof ZCreatePaymentBody>;
