import { z } from 'zod';
import { PAYMENT_METHOD_TYPES } from '../payment-methods/eligibility.ts';
import { ZOrder, zMetadata, zOrderInput } from '../orders/order.schemas.ts';
import { CHECKOUT_STATUSES } from './checkout.states.ts';
import { zLocale } from './checkout.locale.ts';

/**
 * `POST /v1/checkouts` and `PUT /v1/checkouts/{id}` bodies (the redirect-checkout flow's field names, docs/checkouts.md) and the Checkout
 * resource. URL fields are shape-checked here; whether a URL is acceptable depends on the caller's mode (http
 * is test-mode only) and the egress policy, so `checkCheckoutUrls` judges them in the service.
 */

export const MIN_SESSION_LIFETIME_SECONDS = 60;
export const MAX_SESSION_LIFETIME_SECONDS = 30 * 24 * 60 * 60;

const zUrl = z
  .string()
  .max(2048)
  .meta({ description: 'Absolute https:// URL (http:// accepted in test mode)' });

export const CALLBACK_NAMES = ['ok', 'fail', 'open', 'notification', 'verify_order'] as const;
export type CallbackName = (typeof CALLBACK_NAMES)[number];

/** The callbacks flow's callbacks. A URL overrides the merchant's default for that callback; null switches it off. */
export const zCallbacksInput = z.strictObject({
  ok: zUrl.nullable().optional(),
  fail: zUrl.nullable().optional(),
  open: zUrl.nullable().optional(),
  notification: zUrl.nullable().optional(),
  verify_order: zUrl.nullable().optional(),
});

export const zCaptureMode = z.enum(['automatic', 'manual']);

export const zSessionLifetime = z
  .number()
  .int()
  .min(MIN_SESSION_LIFETIME_SECONDS)
  .max(MAX_SESSION_LIFETIME_SECONDS)
  .meta({
    description: `Seconds, ${MIN_SESSION_LIFETIME_SECONDS} to ${MAX_SESSION_LIFETIME_SECONDS} (30 days)`,
  });

export const ZCreateCheckout = z
  .strictObject({
    completed_redirect_url: zUrl.describe('Where the shopper goes after paying'),
    canceled_redirect_url: zUrl.describe('Where the shopper goes after canceling'),
    callbacks: zCallbacksInput
      .optional()
      .describe("Server-side callbacks; default: the merchant's default_callbacks"),
    allow_save_payment_methods: z.boolean().default(false),
    locale: zLocale
      .optional()
      .describe(
        "The hosted page's language. Without it the checkout has locale null and its pages follow the shopper's browser language (Accept-Language), then the merchant's default_locale",
      ),
    capture_mode: zCaptureMode.optional().describe("Default: the merchant's default_capture_mode"),
    expires_in_seconds: zSessionLifetime
      .optional()
      .describe("Default: the merchant's default_session_lifetime_seconds"),
    payment_methods: z
      .array(z.enum(PAYMENT_METHOD_TYPES))
      .min(1)
      .refine((methods) => new Set(methods).size === methods.length, {
        error: 'must not list a method twice',
        params: { code: 'duplicate' },
      })
      .optional()
      .describe(
        "Restrict this checkout to these methods (default: every method the merchant's settings allow)",
      ),
    metadata: zMetadata.default({}),
    order: zOrderInput,
  })
  .meta({ id: 'CreateCheckout' });

export type CreateCheckoutRequest = z.infer<typeof ZCreateCheckout>;

export const ZReplaceCheckoutOrder = z
  .strictObject({ order: zOrderInput })
  .meta({ id: 'ReplaceCheckoutOrder' });

const zTimestamp = z.string().meta({ description: 'RFC 3339 UTC timestamp' });

export const ZCheckout = z
  .object({
    id: z.string().describe('chk_…'),
    object: z.literal('checkout'),
    checkout_id: z
      .string()
      .describe('The same as `id` (a documented alias, docs/api-conventions.md#2-objects)'),
    livemode: z.boolean(),
    status: z.enum(CHECKOUT_STATUSES),
    checkout_redirect_url: z
      .string()
      .describe('The hosted payment page; carries an unguessable signature segment'),
    client_token: z
      .string()
      .optional()
      .describe('Browser-safe token for this checkout only; returned once, in the response that created it'),
    completed_redirect_url: z.string(),
    canceled_redirect_url: z.string(),
    callbacks: z.object({
      ok: z.string().optional(),
      fail: z.string().optional(),
      open: z.string().optional(),
      notification: z.string().optional(),
      verify_order: z.string().optional(),
    }),
    allow_save_payment_methods: z.boolean(),
    locale: z
      .string()
      .nullable()
      .describe("null: the pages follow the shopper's Accept-Language, then the merchant's default_locale"),
    capture_mode: zCaptureMode,
    payment_methods: z.array(z.enum(PAYMENT_METHOD_TYPES)).nullable(),
    metadata: z.record(z.string(), z.unknown()),
    payment_started: z
      .boolean()
      .describe('True once a payment attempt was made; the order can no longer be replaced'),
    payment_link_id: z
      .string()
      .nullable()
      .describe(
        'The payment link (pl_…) whose visit opened this session; null for sessions created with the API',
      ),
    created_at: zTimestamp,
    placed_at: zTimestamp.describe('The same as `created_at` (a documented alias)'),
    expires_at: zTimestamp,
    updated_at: zTimestamp,
    completed_at: zTimestamp.nullable(),
    canceled_at: zTimestamp.nullable(),
    cancellation_reason: z
      .enum(['too_many_declines'])
      .nullable()
      .describe(
        'Why Kassa canceled the checkout itself: `too_many_declines` when declined payment attempts reached the limit per checkout (card testing; docs/security.md). null otherwise, also when the shopper or the merchant canceled.',
      ),
    expired_at: zTimestamp.nullable(),
    version: z.number().int(),
    order: ZOrder,
  })
  .meta({ id: 'Checkout' });

export type CheckoutResource = z.infer<typeof ZCheckout>;
