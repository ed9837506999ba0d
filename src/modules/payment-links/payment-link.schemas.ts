import { z } from 'zod';
import { zCaptureMode, ZCreateCheckout } from '../checkouts/checkout.schemas.ts';
import { PAYMENT_METHOD_TYPES } from '../payment-methods/eligibility.ts';
import { PAYMENT_LINK_STATUSES } from './payment-link.states.ts';

/**
 * `POST /v1/payment-links` (docs/payment-links.md, the payment-link flow) and the PaymentLink resource. The order, redirect URLs, locale,
 * capture mode, payment methods and metadata are the checkout's own fields and rules (same schema, same totals
 * check); the link adds its validity, activation window, usage cap and optional landing page.
 */

export const DEFAULT_LINK_VALIDITY_SECONDS = 14 * 24 * 60 * 60;
export const MIN_LINK_VALIDITY_SECONDS = 60;
export const MAX_LINK_VALIDITY_SECONDS = 90 * 24 * 60 * 60;
export const DEFAULT_ACTIVATION_WINDOW_SECONDS = 600;
export const MIN_ACTIVATION_WINDOW_SECONDS = 60;
export const MAX_ACTIVATION_WINDOW_SECONDS = 7 * 24 * 60 * 60;
export const MAX_COMPLETIONS = 1_000_000;

const zUrl = z
  .string()
  .max(2048)
  .meta({ description: 'Absolute https:// URL (http:// accepted in test mode)' });

export const ZCreatePaymentLink = ZCreateCheckout.pick({
  locale: true,
  capture_mode: true,
  payment_methods: true,
  metadata: true,
  order: true,
})
  .extend({
    completed_redirect_url: zUrl
      .optional()
      .describe(
        'Where the shopper goes after paying, with the signed checkout_id, order_id, status, timestamp and ' +
          "signature. Default: none — the shopper stays on Kassa's page, which shows the outcome (a link sent " +
          'with an invoice has no shop page to return to).',
      ),
    canceled_redirect_url: zUrl
      .optional()
      .describe("Where the shopper goes after canceling, signed likewise. Default: Kassa's page, as above."),
    landing_url: zUrl
      .optional()
      .describe(
        "The merchant's own payment page. Opening the link then redirects there with kassa_link, kassa_session " +
          "and kassa_token, which the browser SDK's initFromQR() reads. Default: Kassa's hosted payment page.",
      ),
    expires_in_seconds: z
      .number()
      .int()
      .min(MIN_LINK_VALIDITY_SECONDS)
      .max(MAX_LINK_VALIDITY_SECONDS)
      .default(DEFAULT_LINK_VALIDITY_SECONDS)
      .describe(`How long the link can be opened, in seconds (default 14 days, at most 90 days)`),
    activation_window_seconds: z
      .number()
      .int()
      .min(MIN_ACTIVATION_WINDOW_SECONDS)
      .max(MAX_ACTIVATION_WINDOW_SECONDS)
      .default(DEFAULT_ACTIVATION_WINDOW_SECONDS)
      .describe('Once the link is first opened, it can be paid only within this many seconds (default 600)'),
    usage: z
      .enum(['single', 'reusable'])
      .default('single')
      .describe('single: paid at most once; reusable: paid up to max_completions times, once per visit'),
    max_completions: z
      .number()
      .int()
      .min(1)
      .max(MAX_COMPLETIONS)
      .optional()
      .describe('reusable: how many paid sessions close the link (required); single: 1 (may be omitted)'),
  })
  .superRefine((body, ctx) => {
    if (body.usage === 'single' && body.max_completions !== undefined && body.max_completions !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_completions'],
        message: 'must be 1 (or omitted) for a single-use link; use usage "reusable" for more',
        params: { code: 'single_use' },
      });
    }
    if (body.usage === 'reusable' && body.max_completions === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['max_completions'],
        message: 'is required for a reusable link: how many paid sessions close it',
        params: { code: 'required' },
      });
    }
  })
  .meta({ id: 'CreatePaymentLink' });

export type CreatePaymentLinkRequest = z.infer<typeof ZCreatePaymentLink>;

const zTimestamp = z.string().meta({ description: 'RFC 3339 UTC timestamp' });
const ZAdjustment = z.object({ amount: z.number().int(), description: z.string().optional() });

/** The order a link's sessions start from, as the merchant sent it. */
export const ZPaymentLinkOrder = z
  .object({
    merchant_order_id: z.string(),
    currency: z.string(),
    country_code: z.string(),
    subtotal_amount: z.number().int(),
    discounts: z.array(ZAdjustment),
    taxes: z.array(ZAdjustment),
    shipping_amount: z.number().int(),
    total_amount: z.number().int(),
    products: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        quantity: z.number().int(),
        unit_price: z.number().int(),
      }),
    ),
    customer: z
      .object({
        email: z.string(),
        first_name: z.string().optional(),
        last_name: z.string().optional(),
        phone: z.string().optional(),
      })
      .optional(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'PaymentLinkOrder' });

export const ZPaymentLink = z
  .object({
    id: z.string().describe('pl_…'),
    object: z.literal('payment_link'),
    payment_link_id: z.string().describe('The same as `id` (a documented alias)'),
    livemode: z.boolean(),
    status: z.enum(PAYMENT_LINK_STATUSES),
    url: z.string().describe('The link to share; carries an unguessable signature segment'),
    qr_code: z
      .string()
      .optional()
      .describe('PNG data URL of a QR code encoding `url` (in create and retrieve answers, not in lists)'),
    qr_svg_url: z.string().describe('The same QR code as SVG'),
    usage: z.enum(['single', 'reusable']),
    max_completions: z.number().int(),
    completions: z.number().int().describe('Paid sessions so far'),
    activation_window_seconds: z.number().int(),
    expires_at: zTimestamp,
    first_opened_at: zTimestamp.nullable(),
    completable_until: zTimestamp
      .nullable()
      .describe('Once opened: the end of the activation window (never after expires_at)'),
    landing_url: z.string().nullable(),
    completed_redirect_url: z.string().nullable().describe("null: Kassa's own status page of the session"),
    canceled_redirect_url: z.string().nullable().describe("null: Kassa's own status page of the session"),
    locale: z.string().nullable().describe("null: the merchant's default_locale when a session opens"),
    capture_mode: zCaptureMode
      .nullable()
      .describe("null: the merchant's default_capture_mode when a session opens"),
    payment_methods: z.array(z.enum(PAYMENT_METHOD_TYPES)).nullable(),
    metadata: z.record(z.string(), z.unknown()),
    order: ZPaymentLinkOrder,
    created_at: zTimestamp,
    updated_at: zTimestamp,
    completed_at: zTimestamp.nullable(),
    expired_at: zTimestamp.nullable(),
    deactivated_at: zTimestamp.nullable(),
    version: z.number().int(),
  })
  .meta({ id: 'PaymentLink' });

export type PaymentLinkResource = z.infer<typeof ZPaymentLink>;
