import { html } from '../../lib/html.ts';
import { formatDemoMoney, renderDemoDocument } from './layout.ts';
import { renderTotals } from './parts.ts';

/**
 * The receipt, the declined page and the shop's plain messages. The receipt and the declined page are also
 * served through Kassa as callback answers: no script, only relative links.
 */

export type ReceiptModel = {
  /** Who rendered it, shown as a hint: the shop's callback handler, or its signed-return handler. */
  source: 'callback' | 'redirect';
  /** Items in the shopper's cart; unknown (undefined) when Kassa serves the page from a callback. */
  cartCount?: number;
  merchantOrderId: string;
  placedAt?: string;
  lines: { name: string; quantity: number; unitPrice: number; lineTotal: number }[];
  currency: string;
  subtotal: number;
  shipping: number;
  total: number;
  /** `PAID`, `AUTHORIZED` or `PENDING` (the order's status, or the payment's mapped to it). */
  status: 'PAID' | 'AUTHORIZED' | 'PENDING';
  payment: { id: string; method: string; card: { brand: string; last4: string } | null } | undefined;
};

const BRAND_NAMES: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  jcb: 'JCB',
  diners: 'Diners Club',
  unionpay: 'UnionPay',
  maestro: 'Maestro',
};

function describePaymentMethod(payment: ReceiptModel['payment']): string {
  if (!payment) return '—';
  if (payment.card)
    return `${BRAND_NAMES[payment.card.brand] ?? payment.card.brand} •••• ${payment.card.last4}`;
  if (payment.method === 'invoice') return 'Invoice (pay later)';
  if (payment.method === 'wallet') return 'Wallet';
  return payment.method;
}

const STATUS_TEXT: Record<ReceiptModel['status'], { badge: string; title: string; lead: string }> = {
  PAID: {
    badge: 'Paid',
    title: 'Thank you! Your order is confirmed.',
    lead: 'We have received your payment and will pack your order today.',
  },
  AUTHORIZED: {
    badge: 'Authorized',
    title: 'Thank you! Your order is confirmed.',
    lead: 'Your payment is authorized; we charge it when your order ships.',
  },
  PENDING: {
    badge: 'Payment pending',
    title: 'Thank you! We have your order.',
    lead: 'Your payment is being processed; we will e-mail you as soon as it is confirmed.',
  },
};

export function renderReceiptPage(model: ReceiptModel): string {
  const text = STATUS_TEXT[model.status];
  const placed = model.placedAt
    ? new Date(model.placedAt).toLocaleString('en-GB', {
        day: 'numeric',
        month: 'long',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZone: 'UTC',
        timeZoneName: 'short',
      })
    : undefined;
  const body = html`<section class="demo-receipt demo-card" aria-labelledby="receipt-title">
    <div class="demo-receipt__head">
      <span class="demo-receipt__check demo-receipt__check--${model.status.toLowerCase()}" aria-hidden="true"
        >✓</span
      >
      <h1 id="receipt-title">${text.title}</h1>
      <p class="demo-muted">${text.lead}</p>
    </div>
    <dl class="demo-facts">
      <div>
        <dt>Order number</dt>
        <dd id="receipt-order-number">${model.merchantOrderId}</dd>
      </div>
      ${
        placed &&
        html`<div>
          <dt>Placed</dt>
          <dd>${placed}</dd>
        </div>`
      }
      <div>
        <dt>Payment</dt>
        <dd id="receipt-payment-method">${describePaymentMethod(model.payment)}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          <span id="receipt-status" class="demo-status demo-status--${model.status.toLowerCase()}"
            >${text.badge}</span
          >
        </dd>
      </div>
    </dl>
    <table class="demo-receipt__items">
      <caption class="demo-visually-hidden">
        Items
      </caption>
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col">Qty</th>
          <th scope="col">Price</th>
          <th scope="col">Total</th>
        </tr>
      </thead>
      <tbody>
        ${model.lines.map(
          (line) =>
            html`<tr>
              <td>${line.name}</td>
              <td>${line.quantity}</td>
              <td>${formatDemoMoney(line.unitPrice, model.currency)}</td>
              <td>${formatDemoMoney(line.lineTotal, model.currency)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${renderTotals(model, model.currency)}
    ${
      model.payment &&
      html`<p class="demo-muted demo-receipt__ref">
        Payment reference <span class="demo-mono">${model.payment.id}</span>
      </p>`
    }
    <div class="demo-receipt__actions"><a class="demo-button" href="/demo">Continue shopping</a></div>
    <p class="demo-hint">
      ${
        model.source === 'callback'
          ? 'This receipt is the shop’s answer to Kassa’s signed callback (callbacks.ok / open). Kassa served it to you with scripts removed.'
          : 'This receipt was rendered after the shop verified the signature of Kassa’s return URL and read the order from the API.'
      }
    </p>
  </section>`;
  return renderDemoDocument({ title: 'Receipt', cartCount: model.cartCount, body });
}

export function renderDeclinedPage(model: {
  merchantOrderId: string;
  reason: string;
  retryUrl: string | undefined;
}): string {
  const body = html`<section class="demo-receipt demo-card" aria-labelledby="declined-title">
    <div class="demo-receipt__head">
      <span class="demo-receipt__check demo-receipt__check--declined" aria-hidden="true">!</span>
      <h1 id="declined-title">Your payment did not go through</h1>
      <p class="demo-muted">${model.reason}</p>
    </div>
    <dl class="demo-facts">
      <div>
        <dt>Order number</dt>
        <dd>${model.merchantOrderId}</dd>
      </div>
    </dl>
    <div class="demo-receipt__actions">
      ${model.retryUrl && html`<a class="demo-button" href="${model.retryUrl}">Try again</a>`}
      <a class="demo-button demo-button--secondary" href="/demo/cart">Back to the cart</a>
    </div>
    <p class="demo-hint">
      This page is the shop’s answer to Kassa’s signed callback (callbacks.fail). Nothing was charged; the
      payment page is still open for another try.
    </p>
  </section>`;
  return renderDemoDocument({ title: 'Payment declined', body });
}

export function renderMessagePage(model: {
  title: string;
  message: string;
  cartCount?: number;
  action?: { href: string; label: string };
}): string {
  const body = html`<section class="demo-empty">
    <h1>${model.title}</h1>
    <p>${model.message}</p>
    ${model.action && html`<a class="demo-button" href="${model.action.href}">${model.action.label}</a>`}
  </section>`;
  return renderDemoDocument({ title: model.title, cartCount: model.cartCount, body });
}
