import {
  routableMethodsAmong,
  savedCardsChargeableAmong,
  type RoutingFacts,
} from '../../modules/processor-accounts/processor-routing.ts';
import type { Queryable } from '../../db/client.ts';
import { withDates, type JsonRow } from '../../db/json-row.ts';
import { CARD_BRANDS, type CardBrand } from '../../lib/card.ts';
import { toCheckout, type CheckoutRow } from '../../modules/checkouts/checkout.row.ts';
import type { Checkout, Scope } from '../../modules/checkouts/checkout.types.ts';
import type { MerchantCache } from '../../modules/merchants/merchant-cache.ts';
import type { Merchant } from '../../modules/merchants/merchant.types.ts';
import type { CustomerRow } from '../../modules/customers/customer.mapping.ts';
import { toOrder, type OrderRow } from '../../modules/orders/order.repository.ts';
import type { Order } from '../../modules/orders/order.types.ts';
import type { PaymentMethodSetting } from '../../modules/payment-methods/eligibility.ts';
import type { PaymentMethodSettingsCache } from '../../modules/payment-methods/payment-method-settings.cache.ts';

/**
 * Everything one view of the hosted page reads, in ONE statement: the checkout, its order and customer, the
 * customer's saved cards (only when the session may offer them: saving allowed, and the merchant vouched for
 * the customer) and the merchant's routable processor accounts (only where the answer is used: live mode, or
 * a session that could list or save a card). It is read at the moment of the request, so the page always
 * shows the checkout's current state. Each database round trip is expensive on a loaded box
 * (the socket writes dominated the page's CPU profile when it took five), so the page pays for one.
 *
 * The merchant (branding, callbacks) and its payment-method settings for the mode come through this process's
 * caches (≤ 1 s old, forgotten at once on a change made here): building them into the statement cost
 * PostgreSQL more than the rest of it (≈ 65 of 110 µs per page, measured in a loop on the server).
 *
 * Rows are matched on the checkout's own merchant and mode, exactly as the scoped repositories would after
 * `findCheckoutScope`; the caller has checked the URL signature before asking.
 */

/** A saved card as the page lists it: display fields only (the sealed card data is never read here). */
export type SavedCardSummary = {
  id: string;
  brand: CardBrand;
  last4: string;
  expMonth: number;
  expYear: number;
};

export type HostedPageSnapshot = {
  scope: Scope;
  checkout: Checkout;
  order: Order;
  merchant: Merchant;
  paymentMethodSettings: PaymentMethodSetting[];
  /**
   * The customer's saved cards, newest first, when the session allows them and has a customer the merchant
   * vouched for (`customer.verified: true`); else [].
   */
  savedCards: SavedCardSummary[];
  /**
   * False when the checkout's cards go to a real processor (Stripe, Adyen): saved cards are sandbox-only, so the
   * page neither lists them nor offers to save one. Also false (not asked) when the session cannot save or list
   * cards anyway: saving not allowed, or no customer.
   */
  savedCardsAllowed: boolean;
};

/** The rows as `json_build_object` gives them (timestamps as ISO strings); the tables' mappers read them. */
type CheckoutJson = JsonRow<CheckoutRow>;
/** The order's own columns (its session's and customer's come separately). */
type OrderContentRow = Omit<
  OrderRow,
  'merchant_id' | 'livemode' | 'checkout_id' | 'checkout_expires_at' | 'checkout_locale' | 'customer'
>;
type OrderJson = JsonRow<OrderContentRow>;

type SavedCardJson = { id: string; brand: string; last4: string; exp_month: number; exp_year: number };

/** A routable processor account as routing reads it (`processor-routing.ts`), in routing order. */
type ProcessorAccountJson = {
  processor: RoutingFacts['processor'];
  payment_methods: RoutingFacts['paymentMethods'];
  currencies: RoutingFacts['currencies'];
};

/** The checkout, its order and the order's customer: what changes only when one of their rows does. */
type ContentJson = {
  checkout: CheckoutJson;
  order: OrderJson;
  customer: CustomerRow | null;
};

type PageRow = {
  /** Names the versions of the checkout, order and customer rows the content is (or would be) read from. */
  stamp: string;
  /** Null when `stamp` is the one the caller sent: it holds that content already. */
  content: ContentJson | null;
  saved_cards: SavedCardJson[] | null;
  /** Read only when the answer is used: live mode (which methods), or a session that could list or save a card. */
  processor_accounts: ProcessorAccountJson[] | null;
};

/**
 * The checkout, order and customer as one page view read them, kept by this process for the next view of the
 * same checkout (a reload, the waiting page polling every 2 s, the page again after a declined card).
 *
 * `stamp` is what PostgreSQL says about the rows they came from: each row's `xmin` (the transaction that
 * wrote that version of the row; every UPDATE writes a new one, whichever columns it sets and whoever runs
 * it) and, for the checkout and order, their `version` too, so even a transaction id that came round again
 * after four billion transactions cannot pass for the old one. The statement compares the stamp itself, in
 * the same snapshot it reads, and builds the content only when the rows differ from the ones kept: a view
 * of an unchanged checkout reads ≈ 2 KB less JSON and skips building, sending and parsing it.
 *
 * The objects are shared by every view that finds them here: they are frozen, so code that changes one in
 * place fails loudly instead of showing another shopper's request something it did not read.
 */
export type HostedPageContent = { stamp: string; checkout: Checkout; order: Order };

export type HostedPageContentCache = {
  get(checkoutId: string): HostedPageContent | undefined;
  set(checkoutId: string, content: HostedPageContent): void;
};

/** A bounded cache of page contents, least recently used out first (a few MB at most). */
export function createHostedPageContentCache(maxEntries = 1000): HostedPageContentCache {
  const contents = new Map<string, HostedPageContent>();
  return {
    get(checkoutId) {
      const content = contents.get(checkoutId);
      if (content) {
        // Most recently used last: the Map's first key is always the one to evict.
        contents.delete(checkoutId);
        contents.set(checkoutId, content);
      }
      return content;
    },
    set(checkoutId, content) {
      contents.delete(checkoutId);
      if (contents.size >= maxEntries) contents.delete(contents.keys().next().value!);
      contents.set(checkoutId, content);
    },
  };
}

/**
 * One statement per view. `$2` is the stamp of the content this process holds for the checkout (null when it
 * holds none): the content comes back only when the rows' stamp differs. The saved cards and processor
 * accounts are read every time (they change without touching these rows), and only where they are used.
 *
 * The content is ONE json column: with ~55 plain columns, pg's per-result field set-up and row parsing cost
 * more than the JSON.parse of one value (profiled: `addFields` + `parseRow` + date parsing were ~15 % of the
 * page's CPU). Explicit column lists keep the token digest and anything added later out.
 */
export const SELECT_HOSTED_PAGE = `
  SELECT s.stamp,
    CASE WHEN s.stamp IS NOT DISTINCT FROM $2::text THEN NULL ELSE json_build_object(
    'checkout', json_build_object(
      'id', c.id, 'merchant_id', c.merchant_id, 'livemode', c.livemode, 'status', c.status,
      'completed_redirect_url', c.completed_redirect_url, 'canceled_redirect_url', c.canceled_redirect_url,
      'callbacks', c.callbacks, 'capture', c.capture, 'allow_save_payment_methods', c.allow_save_payment_methods,
      'locale', c.locale, 'locale_is_default', c.locale_is_default, 'payment_methods', c.payment_methods, 'metadata', c.metadata,
      'payment_started', c.payment_started OR c.active_payment_id IS NOT NULL, 'active_payment_id', c.active_payment_id,
      'payment_link_id', c.payment_link_id, 'expires_at', c.expires_at, 'completed_at', c.completed_at,
      'canceled_at', c.canceled_at, 'expired_at', c.expired_at, 'created_at', c.created_at,
      'updated_at', c.updated_at, 'version', c.version, 'cancellation_reason', c.cancellation_reason),
    'order', json_build_object(
      'id', o.id, 'status', o.status, 'merchant_order_id', o.merchant_order_id, 'currency', o.currency,
      'country_code', o.country_code, 'subtotal_amount', o.subtotal_amount, 'discounts', o.discounts,
      'taxes', o.taxes, 'shipping_amount', o.shipping_amount, 'total_amount', o.total_amount,
      'products', o.products, 'metadata', o.metadata, 'authorized_amount', o.authorized_amount,
      'captured_amount', o.captured_amount, 'refunded_amount', o.refunded_amount,
      'created_at', o.created_at, 'updated_at', o.updated_at, 'version', o.version,
      'customer_verified', o.customer_verified),
    'customer', CASE WHEN cu.id IS NULL THEN NULL ELSE to_jsonb(cu) END) END AS content,
    CASE WHEN c.allow_save_payment_methods AND o.customer_verified AND cu.id IS NOT NULL THEN (
      SELECT json_agg(json_build_object('id', p.id, 'brand', p.card_brand, 'last4', p.card_last4,
               'exp_month', p.card_exp_month, 'exp_year', p.card_exp_year)
             ORDER BY p.created_at DESC, p.id DESC)
        FROM saved_payment_methods p
       WHERE p.merchant_id = c.merchant_id AND p.livemode = c.livemode AND p.customer_id = cu.id
         AND p.deleted_at IS NULL)
    END AS saved_cards,
    CASE WHEN c.livemode OR (c.allow_save_payment_methods AND cu.id IS NOT NULL) THEN
      COALESCE((
      SELECT json_agg(json_build_object('processor', a.processor, 'payment_methods', a.payment_methods,
               'currencies', a.currencies) ORDER BY a.priority, a.created_at, a.id)
        FROM processor_accounts a
       WHERE a.merchant_id = c.merchant_id AND a.livemode = c.livemode AND a.deleted_at IS NULL
         AND a.status = 'ENABLED'), '[]'::json)
    END AS processor_accounts
    FROM checkouts c
    JOIN orders o ON o.checkout_id = c.id AND o.merchant_id = c.merchant_id AND o.livemode = c.livemode
    LEFT JOIN customers cu ON cu.id = o.customer_id
    CROSS JOIN LATERAL (SELECT concat_ws('.', c.xmin, c.version, o.xmin, o.version, cu.xmin) AS stamp) s
   WHERE c.id = $1`;

/**
 * JSON numbers bypass the int8 parser's guard (db/client.ts), so amounts are checked here the same way: an
 * amount beyond the safe integer range is refused, never rounded.
 */
function amount(value: number): number {
  if (!Number.isSafeInteger(value)) throw new Error(`amount ${value} exceeds the safe integer range`);
  return value;
}

function toCheckoutFromJson(json: CheckoutJson): Checkout {
  return toCheckout(
    withDates(json, ['expires_at', 'completed_at', 'canceled_at', 'expired_at', 'created_at', 'updated_at']),
  );
}

/** Amounts come through JSON here rather than through the int8 parser of `pg`, so they are checked the same way. */
function toOrderFromJson(json: OrderJson, checkout: Checkout, customer: CustomerRow | null): Order {
  const row = withDates<OrderContentRow, 'created_at' | 'updated_at'>(json, ['created_at', 'updated_at']);
  return toOrder({
    ...row,
    merchant_id: checkout.merchantId,
    livemode: checkout.livemode,
    checkout_id: checkout.id,
    subtotal_amount: amount(json.subtotal_amount),
    shipping_amount: amount(json.shipping_amount),
    total_amount: amount(json.total_amount),
    authorized_amount: amount(json.authorized_amount),
    captured_amount: amount(json.captured_amount),
    refunded_amount: amount(json.refunded_amount),
    checkout_expires_at: checkout.expiresAt,
    checkout_locale: checkout.locale,
    customer,
  });
}

function toSavedCard(card: SavedCardJson): SavedCardSummary {
  const brand = (CARD_BRANDS as readonly string[]).includes(card.brand)
    ? (card.brand as CardBrand)
    : 'unknown';
  return { id: card.id, brand, last4: card.last4, expMonth: card.exp_month, expYear: card.exp_year };
}

/**
 * Where the hosted page reads from: the database, and the caches of merchant rows and settings. The processor
 * accounts (live mode: the methods some account takes in the order's currency, the page offers no other;
 * whether saved cards may be charged, only when their cards go to the sandbox) come with the page's statement.
 */
export type HostedPageSources = {
  db: Queryable;
  merchants: MerchantCache;
  paymentMethodSettings: PaymentMethodSettingsCache;
  /** The contents of earlier views, so an unchanged checkout's content is not read again. */
  contents: HostedPageContentCache;
};

/** The content as the statement built it, mapped and frozen for sharing between views. */
function contentOf(stamp: string, json: ContentJson): HostedPageContent {
  const checkout = toCheckoutFromJson(json.checkout);
  const order = toOrderFromJson(json.order, checkout, json.customer);
  return deepFreeze({ stamp, checkout, order });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** The hosted page's view of checkout `checkoutId`, or undefined when there is no such checkout. */
export async function findHostedPageSnapshot(
  sources: HostedPageSources,
  checkoutId: string,
): Promise<HostedPageSnapshot | undefined> {
  const { db } = sources;
  const held = sources.contents.get(checkoutId);
  const { rows } = await db.query<PageRow>(SELECT_HOSTED_PAGE, [checkoutId, held?.stamp ?? null]);
  const page = rows[0];
  if (!page) return undefined;
  let content: HostedPageContent;
  if (page.content !== null) {
    content = contentOf(page.stamp, page.content);
    sources.contents.set(checkoutId, content);
  } else if (held && held.stamp === page.stamp) {
    content = held;
  } else {
    throw new Error(
      `hosted page of ${checkoutId}: no content came back for a stamp this process does not hold`,
    );
  }
  const { checkout, order } = content;
  const scope = { merchantId: checkout.merchantId, livemode: checkout.livemode };
  // The processor accounts came with the statement only where their answer is used: live mode (which methods
  // an account takes), or a session that could list or save a card (saving allowed and a customer).
  const accounts = (page.processor_accounts ?? []).map((account): RoutingFacts => ({
    processor: account.processor,
    paymentMethods: account.payment_methods,
    currencies: account.currencies,
  }));
  const processorMethods = routableMethodsAmong(accounts, scope, order.currency);
  const savedCardsAllowed =
    checkout.allowSavePaymentMethods &&
    order.customer !== null &&
    savedCardsChargeableAmong(accounts, scope, order.currency);
  const [merchant, settings] = await Promise.all([
    sources.merchants.find(db, scope.merchantId),
    sources.paymentMethodSettings.find(db, scope),
  ]);
  if (!merchant) throw new Error(`Checkout ${checkout.id} has no merchant`);
  // A method no processor account takes is not offered (a payment with it would be refused).
  const paymentMethodSettings = processorMethods
    ? settings.map((setting) =>
        processorMethods.has(setting.method) ? setting : { ...setting, enabled: false },
      )
    : settings;
  return {
    scope,
    checkout,
    order,
    merchant,
    paymentMethodSettings,
    savedCards: savedCardsAllowed ? (page.saved_cards ?? []).map(toSavedCard) : [],
    savedCardsAllowed,
  };
}
