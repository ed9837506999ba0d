import { CommandError } from './errors.ts';
import { fetchOrExplain, type Gateway } from './gateway-client.ts';

/**
 * The steps `kassa trigger` chains into real sandbox flows, through the endpoints a merchant's server and a
 * shopper's browser use: the merchant API (`POST /v1/checkouts`, captures, refunds, …) and the hosted payment
 * page (load the page, post its form with a sandbox test card, docs/test-cards.md). Nothing is faked: the
 * events come from the gateway's own state changes.
 */

export const TEST_CARDS = {
  approved: '4242424242424242',
  declined: '4000000000000002',
  pending: '4000000000000259',
} as const;

export type Checkout = { id: string; orderId: string; pageUrl: string };
export type Payment = { id: string; status: string };

export async function createCheckout(
  gateway: Gateway,
  options: { capture?: 'automatic' | 'manual' } = {},
): Promise<Checkout> {
  const amount = 2500;
  const created = await gateway.request<{
    checkout_id: string;
    checkout_redirect_url: string;
    order: { order_id: string };
  }>('POST', '/v1/checkouts', {
    // Never opened by the trigger: the shopper's redirect after paying is read, not followed.
    completed_redirect_url: 'https://example.com/kassa-trigger/completed',
    canceled_redirect_url: 'https://example.com/kassa-trigger/canceled',
    ...(options.capture ? { capture_mode: options.capture } : {}),
    order: {
      merchant_order_id: `trigger-${Date.now()}`,
      currency: 'EUR',
      country_code: 'DE',
      subtotal_amount: amount,
      total_amount: amount,
      products: [
        { id: 'kassa-trigger', name: 'Test product (kassa trigger)', quantity: 1, unit_price: amount },
      ],
      customer: { first_name: 'Test', last_name: 'Shopper', email: 'shopper@example.com' },
    },
  });
  // The page is reached through the gateway the command talks to, whatever public URL it announces.
  const page = new URL(created.checkout_redirect_url);
  return {
    id: created.checkout_id,
    orderId: created.order.order_id,
    pageUrl: `${gateway.baseUrl}${page.pathname}${page.search}`,
  };
}

async function loadPage(gateway: Gateway, url: string): Promise<string> {
  const response = await fetchOrExplain(gateway.baseUrl, url, { headers: { accept: 'text/html' } });
  const html = await response.text();
  if (!response.ok) throw new CommandError(`the payment page answered ${response.status}`);
  return html;
}

function csrfTokenOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  if (!match) throw new CommandError('the payment page has no form to submit (is the checkout still open?)');
  return match[1]!;
}

async function postForm(gateway: Gateway, url: string, fields: Record<string, string>) {
  const response = await fetchOrExplain(gateway.baseUrl, url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  await response.arrayBuffer();
  return response.status;
}

/** Pays on the hosted page as a shopper does: the form, its CSRF token, a sandbox test card. */
export async function payOnPage(gateway: Gateway, checkout: Checkout, cardNumber: string): Promise<number> {
  const html = await loadPage(gateway, checkout.pageUrl);
  const expiryYear = String((new Date().getUTCFullYear() + 3) % 100).padStart(2, '0');
  return postForm(gateway, checkout.pageUrl, {
    csrf_token: csrfTokenOf(html),
    payment_method: 'card',
    card_name: 'Test Shopper',
    card_number: cardNumber,
    card_expiry: `12/${expiryYear}`,
    card_cvc: '123',
  });
}

/** Cancels on the hosted page as a shopper does ("Cancel and return to the store"). */
export async function cancelOnPage(gateway: Gateway, checkout: Checkout): Promise<number> {
  const html = await loadPage(gateway, checkout.pageUrl);
  const page = new URL(checkout.pageUrl);
  return postForm(gateway, `${page.origin}${page.pathname}/cancel`, { csrf_token: csrfTokenOf(html) });
}

/** The checkout's latest payment attempt, as the merchant API shows it. */
export async function latestPayment(gateway: Gateway, checkout: Checkout): Promise<Payment> {
  // Newest first (docs/api-conventions.md §7): the latest attempt is the first.
  const list = await gateway.request<{ data: Payment[] }>(
    'GET',
    `/v1/orders/${checkout.orderId}/payments?limit=1`,
  );
  const payment = list.data[0];
  if (!payment) throw new CommandError(`the payment page made no payment for checkout ${checkout.id}`);
  return payment;
}

/**
 * Waits until the gateway lists an event of `type` for the checkout: the proof the flow produced it (and its
 * id, to look for in `kassa listen`).
 */
export async function awaitEvent(
  gateway: Gateway,
  type: string,
  checkoutId: string,
  timeoutMs = 15_000,
): Promise<{ id: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await gateway.request<{ data: { id: string }[] }>(
      'GET',
      `/v1/events?type=${encodeURIComponent(type)}&checkout_id=${encodeURIComponent(checkoutId)}&limit=1`,
    );
    if (page.data[0]) return page.data[0];
    if (Date.now() > deadline) {
      throw new CommandError(`the flow ran, but no ${type} event appeared for checkout ${checkoutId}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
