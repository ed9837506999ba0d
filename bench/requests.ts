/**
 * The request bodies the bench sends (bench/run.ts's scenarios and bench/floor's gateway session): the seed's
 * create-checkout body and the Processor API payment with a test card.
 */

export const TEST_CARD = '4242424242424242';

/** The redirect-checkout flow's create-checkout body, amounts as minor units (test/e2e/checkouts/checkout-fixtures.ts). */
function seedCheckoutRequest() {
  return {
    completed_redirect_url: 'https://example.com/complete',
    canceled_redirect_url: 'https://example.com/cancel',
    allow_save_payment_methods: false,
    locale: 'ES_LATAM',
    order: {
      merchant_order_id: '1366656595193',
      currency: 'MXN',
      subtotal_amount: 1000,
      country_code: 'MX',
      discounts: [{ amount: 10 }],
      total_amount: 990,
      products: [
        {
          id: '7197',
          name: 'Pantalla TCL Smart TV Serie A3 A343 HD Android TV 40',
          quantity: 1,
          unit_price: 1000,
        },
      ],
      customer: { first_name: 'John', last_name: 'Doe', email: 'john.doe@example.com' },
    },
  };
}
export const CHECKOUT_BODY = JSON.stringify(seedCheckoutRequest());

/** The seed body with a different shopper each time (most real checkouts are from different customers). */
export function checkoutBodyForCustomer(sequence: number) {
  const body = seedCheckoutRequest();
  body.order.customer.email = `shopper-${sequence}@example.com`;
  return JSON.stringify(body);
}

/**
 * The Processor API request (docs/payments.md: `POST /v1/payments` pays a checkout server-to-server with card data).
 * Its schema was not final when this was written: if the route answers 400, adjust this one function.
 */
export function paymentRequestBody(checkoutId: string) {
  return JSON.stringify({
    checkout_id: checkoutId,
    payment_method: {
      type: 'card',
      card: {
        number: TEST_CARD,
        exp_month: 12,
        exp_year: new Date().getFullYear() + 3,
        cvc: '123',
        holder_name: 'Bench Shopper',
      },
    },
  });
}
