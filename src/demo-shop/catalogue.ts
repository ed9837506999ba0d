/**
 * The demo shop's products and how it prices a cart. Prices are the shop's own (a merchant decides them, not
 * Kassa): integers of minor units of DKK, sent to Kassa in the order it creates — the server always prices
 * from this list, never from anything the browser sends.
 */

export const DEMO_CURRENCY = 'DKK';
export const DEMO_COUNTRY = 'DK';
/** Danish number format with English text; also the checkout's locale (the hosted page formats alike). */
export const DEMO_LOCALE = 'en-DK';

/** Flat shipping, free from a threshold: exercises `shipping_amount` in the order totals. */
export const SHIPPING_AMOUNT = 3_900;
export const FREE_SHIPPING_FROM = 50_000;
export const MAX_QUANTITY = 9;

export type DemoProduct = {
  id: string;
  name: string;
  description: string;
  unitPrice: number;
  /** File under public/demo/. */
  image: string;
};

export const DEMO_PRODUCTS: readonly DemoProduct[] = [
  {
    id: 'merino-scarf',
    name: 'Merino wool scarf',
    description: 'Soft, warm and knitted in Jutland. Oat colour, 180 × 30 cm.',
    unitPrice: 34_900,
    image: 'scarf.svg',
  },
  {
    id: 'stoneware-mug',
    name: 'Stoneware mug',
    description: 'Hand-glazed, 350 ml. For long mornings with strong coffee.',
    unitPrice: 12_900,
    image: 'mug.svg',
  },
  {
    id: 'linen-tote',
    name: 'Linen tote bag',
    description: 'Washed linen with a leather strap. Holds a week of groceries.',
    unitPrice: 8_900,
    image: 'tote.svg',
  },
  {
    id: 'oak-lamp',
    name: 'Oak table lamp',
    description: 'Solid oak base, linen shade, warm 2700 K light.',
    unitPrice: 74_900,
    image: 'lamp.svg',
  },
];

export function findProduct(id: string): DemoProduct | undefined {
  return DEMO_PRODUCTS.find((product) => product.id === id);
}

/** Product id → quantity (1…MAX_QUANTITY); unknown ids never get in (see `normalizeItems`). */
export type CartItems = Record<string, number>;

export type PricedLine = { product: DemoProduct; quantity: number; lineTotal: number };

export type PricedCart = {
  lines: PricedLine[];
  itemCount: number;
  subtotal: number;
  shipping: number;
  total: number;
};

/** Keeps only known products with whole quantities in range, in catalogue order. */
export function normalizeItems(items: Record<string, unknown>): CartItems {
  const normalized: CartItems = {};
  for (const product of DEMO_PRODUCTS) {
    const quantity = items[product.id];
    if (typeof quantity === 'number' && Number.isInteger(quantity) && quantity >= 1) {
      normalized[product.id] = Math.min(quantity, MAX_QUANTITY);
    }
  }
  return normalized;
}

export function priceCart(items: CartItems): PricedCart {
  const lines: PricedLine[] = [];
  for (const product of DEMO_PRODUCTS) {
    const quantity = items[product.id];
    if (quantity) lines.push({ product, quantity, lineTotal: quantity * product.unitPrice });
  }
  const subtotal = lines.reduce((sum, line) => sum + line.lineTotal, 0);
  const shipping = subtotal === 0 || subtotal >= FREE_SHIPPING_FROM ? 0 : SHIPPING_AMOUNT;
  return {
    lines,
    itemCount: lines.reduce((sum, line) => sum + line.quantity, 0),
    subtotal,
    shipping,
    total: subtotal + shipping,
  };
}

/** The `order` of `POST /v1/checkouts` / `POST /v1/payment-links` for a priced cart. */
export function orderForCart(cart: PricedCart, merchantOrderId: string) {
  return {
    merchant_order_id: merchantOrderId,
    currency: DEMO_CURRENCY,
    country_code: DEMO_COUNTRY,
    subtotal_amount: cart.subtotal,
    shipping_amount: cart.shipping,
    total_amount: cart.total,
    products: cart.lines.map((line) => ({
      id: line.product.id,
      name: line.product.name,
      quantity: line.quantity,
      unit_price: line.product.unitPrice,
    })),
  };
}

/**
 * Whether an order Kassa is about to charge is one this shop priced (the `verify_order` callback): every
 * product known at its current price, shipping by the shop's rule, and the total to be charged equal to it.
 */
export function checkOrderPrices(
  order: {
    currency: string;
    shipping_amount: number;
    total_amount: number;
    discounts: readonly unknown[];
    taxes: readonly unknown[];
    products: readonly { product_id: string; quantity: number; unit_price: number }[];
  },
  amountToCharge: number,
): { ok: true } | { ok: false; reason: string } {
  if (order.currency !== DEMO_CURRENCY)
    return { ok: false, reason: `This shop sells in ${DEMO_CURRENCY} only` };
  if (order.discounts.length > 0 || order.taxes.length > 0) {
    return { ok: false, reason: 'This shop does not give discounts or add taxes on top of its prices' };
  }
  const items: CartItems = {};
  for (const line of order.products) {
    const product = findProduct(line.product_id);
    if (!product) return { ok: false, reason: `Unknown product ${line.product_id}` };
    if (line.unit_price !== product.unitPrice)
      return { ok: false, reason: `The price of ${product.name} changed` };
    items[product.id] = (items[product.id] ?? 0) + line.quantity;
  }
  const expected = priceCart(items);
  if (order.shipping_amount !== expected.shipping || order.total_amount !== expected.total) {
    return { ok: false, reason: 'The order total does not match the shop' };
  }
  if (amountToCharge !== expected.total) return { ok: false, reason: 'The amount does not match the order' };
  return { ok: true };
}
