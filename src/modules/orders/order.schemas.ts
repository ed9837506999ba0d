import { z } from 'zod';
import { zCountryCode, zCurrencyCode, zMinorAmount } from '../../lib/money.ts';
import { checkOrderTotals } from '../checkouts/order-totals.ts';
import { ORDER_STATUSES } from './order.states.ts';

/**
 * The order as merchants send it (the redirect-checkout flow's names) and as the API returns it. Objects are strict: an unknown
 * field is refused, not ignored, because a misspelt amount field (`shiping_amount`) silently dropped would
 * change what the shopper pays.
 */

/** Free-form data of the merchant, returned in every event and callback (one schema: src/lib/metadata.ts). */
export { zMetadata } from '../../lib/metadata.ts';
import { zMetadata } from '../../lib/metadata.ts';

const zText = (max: number) => z.string().max(max).regex(/\S/, { error: 'must not be empty or blank' });

export const zOrderAdjustment = z.strictObject({
  amount: zMinorAmount,
  description: zText(255).optional(),
});

export const zOrderProductInput = z.strictObject({
  id: zText(255).describe("The merchant's product id (returned as id, and as its alias product_id)"),
  name: zText(255),
  quantity: z.number().int().min(1).max(1_000_000),
  unit_price: zMinorAmount,
});

export const zCustomerInput = z.strictObject({
  first_name: zText(100).optional(),
  last_name: zText(100).optional(),
  email: z.email({ error: 'must be an e-mail address such as "shopper@example.com"' }).max(254),
  phone: z
    .string()
    .regex(/^\+?[0-9][0-9 ().-]{3,30}$/, { error: 'must be a phone number such as "+52 55 1234 5678"' })
    .optional(),
  verified: z
    .boolean()
    .optional()
    .describe(
      "true when the merchant vouches that the shopper signed in to the merchant's shop as this customer. Only then does the hosted page offer (and charge) the customer's saved cards: a customer is identified by e-mail address, which anyone can type at a guest checkout. Default false.",
    ),
});

/** Turns a checkOrderTotals pointer (`/total_amount`, `/products/0`) into a zod path. */
function pointerToPath(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

export const zOrderInput = z
  .strictObject({
    merchant_order_id: zText(255).describe("The merchant's own order reference"),
    currency: zCurrencyCode,
    country_code: zCountryCode,
    subtotal_amount: zMinorAmount.describe(
      'Σ quantity × unit_price of the products (when products are listed)',
    ),
    discounts: z.array(zOrderAdjustment).max(50).default([]),
    taxes: z.array(zOrderAdjustment).max(50).default([]),
    shipping_amount: zMinorAmount.default(0),
    total_amount: zMinorAmount.describe('subtotal − Σ discounts + Σ taxes + shipping, exactly'),
    products: z.array(zOrderProductInput).max(500).default([]),
    customer: zCustomerInput.optional(),
    metadata: zMetadata.default({}),
  })
  .superRefine(
    (order, ctx) => {
      // Each broken sum points at the field to fix.
      for (const error of checkOrderTotals(order, '')) {
        ctx.addIssue({
          code: 'custom',
          path: pointerToPath(error.pointer),
          message: error.message,
          params: { code: error.code },
        });
      }
    },
    // Only once every field is well-formed: zod 4 runs refinements after non-aborting issues too (an amount
    // beyond the safe-integer range), and checkOrderTotals rightly throws on such input.
    { when: (payload) => payload.issues.length === 0 },
  )
  .meta({
    id: 'OrderContent',
    description: 'The order of a checkout; every amount is an integer of minor units',
  });

const zTimestamp = z
  .string()
  .meta({ description: 'RFC 3339 UTC timestamp', example: '2025-01-31T12:00:00.000Z' });

export const ZCustomer = z
  .object({
    id: z.string().describe('cus_…'),
    object: z.literal('customer'),
    customer_id: z.string().describe('The same as `id` (a documented alias)'),
    livemode: z.boolean(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    email: z.string(),
    phone: z.string().nullable(),
    verified: z
      .boolean()
      .describe(
        "Whether the merchant vouched for the customer on this order (`verified: true` when it was placed or replaced): the shopper signed in to the merchant's shop. Saved cards are offered only then.",
      ),
    created_at: zTimestamp,
    updated_at: zTimestamp,
  })
  .meta({ id: 'OrderCustomer' });

const ZAdjustmentOut = z.object({ amount: z.number().int(), description: z.string().optional() });

export const ZOrder = z
  .object({
    id: z.string().describe('ord_…'),
    object: z.literal('order'),
    order_id: z.string().describe('The same as `id` (a documented alias)'),
    livemode: z.boolean(),
    checkout_id: z.string(),
    status: z.enum(ORDER_STATUSES),
    merchant_order_id: z.string(),
    country: z
      .string()
      .describe(
        'The country\'s English short name ("Germany"), whatever the checkout\'s locale; derive a translated name from country_code',
      ),
    country_code: z.string(),
    currency: z.string(),
    subtotal_amount: z.number().int(),
    discounts: z.array(ZAdjustmentOut),
    taxes: z.array(ZAdjustmentOut),
    shipping_amount: z.number().int(),
    total_amount: z.number().int(),
    products: z.array(
      z.object({
        id: z.string().describe("The merchant's product id, as sent"),
        product_id: z.string().describe('The same as `id` (a documented alias)'),
        name: z.string(),
        quantity: z.number().int(),
        unit_price: z.number().int(),
      }),
    ),
    customer: ZCustomer.nullable(),
    authorized_amount: z.number().int(),
    captured_amount: z.number().int(),
    refunded_amount: z.number().int(),
    metadata: z.record(z.string(), z.unknown()),
    created_at: zTimestamp,
    placed_at: zTimestamp.describe('The same as `created_at` (a documented alias)'),
    expires_at: zTimestamp.describe("The checkout session's deadline"),
    updated_at: zTimestamp,
    version: z.number().int(),
  })
  .meta({ id: 'Order' });

export type OrderResource = z.infer<typeof ZOrder>;
export type CustomerResource = z.infer<typeof ZCustomer>;
