import { toDecimalString } from '../../lib/money.ts';
import type { Actor } from '../../lib/actor-context.ts';
import type { TimelineEntry } from '../../modules/events/order-timeline.service.ts';
import type { Order } from '../../modules/orders/order.types.ts';
import type { Payment, Refund } from '../../modules/payments/payment.types.ts';
import { AppPage, CsrfField, FORM_KEY_FIELD, type Viewer, Feedback } from '../layout.tsx';
import { dateTime, money } from './format.ts';
import { ListTable, StatusBadge } from './list-page.tsx';

export type PaymentView = {
  payment: Payment;
  refunds: Refund[];
  /** Idempotency keys of this rendering's action forms: submitting one twice acts once. */
  formKeys: { capture: string; void: string; refund: string };
};

function Amounts({ order }: { order: Order }) {
  const rows: [string, number][] = [
    ['Total', order.totalAmount],
    ['Authorized', order.authorizedAmount],
    ['Captured', order.capturedAmount],
    ['Refunded', order.refundedAmount],
    ['Available to refund', order.capturedAmount - order.refundedAmount],
  ];
  return (
    <dl class="details">
      {rows.map(([label, amount]) => (
        <div class="details__row" key={label}>
          <dt>{label}</dt>
          <dd>{money(amount, order.currency)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Items({ order }: { order: Order }) {
  return (
    <ListTable
      headings={['Item', { label: 'Quantity', numeric: true }, { label: 'Unit price', numeric: true }]}
      rowCount={order.products.length}
      emptyText="No items listed."
    >
      {order.products.map((product) => (
        <tr key={product.id}>
          <td>{product.name}</td>
          <td class="num">{product.quantity}</td>
          <td class="num">{money(product.unit_price, order.currency)}</td>
        </tr>
      ))}
    </ListTable>
  );
}

function Customer({ order }: { order: Order }) {
  const customer = order.customer;
  if (!customer) return <p class="dash-muted">No customer details.</p>;
  const name = [customer.firstName, customer.lastName].filter(Boolean).join(' ');
  return (
    <dl class="details">
      {name && (
        <div class="details__row">
          <dt>Name</dt>
          <dd>{name}</dd>
        </div>
      )}
      <div class="details__row">
        <dt>E-mail</dt>
        <dd>{customer.email}</dd>
      </div>
      {customer.phone && (
        <div class="details__row">
          <dt>Phone</dt>
          <dd>{customer.phone}</dd>
        </div>
      )}
    </dl>
  );
}

function ActionForm(props: {
  action: string;
  csrfToken: string;
  formKey: string;
  label: string;
  children?: preact.ComponentChildren;
  danger?: boolean;
}) {
  return (
    <form class="dash-action" method="post" action={props.action}>
      <CsrfField token={props.csrfToken} />
      <input type="hidden" name={FORM_KEY_FIELD} value={props.formKey} />
      {props.children}
      <button
        class={`button ${props.danger ? 'button--secondary' : 'button--primary'} dash-button`}
        type="submit"
      >
        {props.label}
      </button>
    </form>
  );
}

function PaymentCard(props: { view: PaymentView; csrfToken: string; canMoveMoney: boolean }) {
  const { payment, refunds, formKeys } = props.view;
  const refundable = payment.capturedAmount - payment.refundedAmount;
  const capturable = payment.authorizedAmount - payment.capturedAmount;
  const base = `/dashboard/payments/${payment.id}`;
  const canCapture = payment.status === 'AUTHORIZED' && capturable > 0;
  const canVoid = payment.status === 'AUTHORIZED' && payment.capturedAmount === 0;
  const canRefund = payment.status === 'SUCCEEDED' && refundable > 0;
  return (
    <section class="dash-card" aria-labelledby={`pay-${payment.id}`}>
      <h3 class="dash-card__title" id={`pay-${payment.id}`}>
        Payment <span class="dash-code">{payment.id}</span> <StatusBadge status={payment.status} />
      </h3>
      <dl class="details">
        <div class="details__row">
          <dt>Method</dt>
          <dd>
            {payment.method}
            {payment.card && ` · ${payment.card.brand} •••• ${payment.card.last4}`}
          </dd>
        </div>
        <div class="details__row">
          <dt>Amount</dt>
          <dd>{money(payment.amount, payment.currency)}</dd>
        </div>
        <div class="details__row">
          <dt>Captured</dt>
          <dd>{money(payment.capturedAmount, payment.currency)}</dd>
        </div>
        <div class="details__row">
          <dt>Refunded</dt>
          <dd>{money(payment.refundedAmount, payment.currency)}</dd>
        </div>
        {payment.declineCode && (
          <div class="details__row">
            <dt>Declined</dt>
            <dd>{payment.declineCode}</dd>
          </div>
        )}
        <div class="details__row">
          <dt>Created</dt>
          <dd>{dateTime(payment.createdAt)}</dd>
        </div>
      </dl>
      {refunds.length > 0 && (
        <ul class="dash-list">
          {refunds.map((refund) => (
            <li key={refund.id}>
              Refund {money(refund.amount, payment.currency)} · {refund.status}
              {refund.reason && ` · “${refund.reason}”`} · {dateTime(refund.createdAt)}
            </li>
          ))}
        </ul>
      )}
      {props.canMoveMoney && (canCapture || canVoid || canRefund) && (
        <div class="dash-actions">
          {canCapture && (
            <ActionForm
              action={`${base}/capture`}
              csrfToken={props.csrfToken}
              formKey={formKeys.capture}
              label="Capture"
            >
              <div class="field">
                <label class="field__label" for={`capture-${payment.id}`}>
                  Amount to capture (up to {toDecimalString(capturable, payment.currency)})
                </label>
                <input
                  class="field__input"
                  id={`capture-${payment.id}`}
                  name="amount"
                  inputmode="decimal"
                  value={toDecimalString(capturable, payment.currency)}
                />
              </div>
            </ActionForm>
          )}
          {canVoid && (
            <ActionForm
              action={`${base}/void`}
              csrfToken={props.csrfToken}
              formKey={formKeys.void}
              label="Void"
              danger
            />
          )}
          {canRefund && (
            <ActionForm
              action={`${base}/refund`}
              csrfToken={props.csrfToken}
              formKey={formKeys.refund}
              label="Refund"
            >
              <p class="dash-muted">Available to refund: {money(refundable, payment.currency)}</p>
              <div class="field">
                <label class="field__label" for={`refund-${payment.id}`}>
                  Amount to refund
                </label>
                <input
                  class="field__input"
                  id={`refund-${payment.id}`}
                  name="amount"
                  inputmode="decimal"
                  required
                  value={toDecimalString(refundable, payment.currency)}
                />
              </div>
              <div class="field">
                <label class="field__label" for={`reason-${payment.id}`}>
                  Reason
                </label>
                <input class="field__input" id={`reason-${payment.id}`} name="reason" maxLength={500} />
              </div>
            </ActionForm>
          )}
        </div>
      )}
    </section>
  );
}

function describeEntry(entry: TimelineEntry): { title: string; detail: string } {
  switch (entry.kind) {
    case 'event':
      return { title: entry.event.type, detail: entry.event.id };
    case 'webhook_attempt':
      return {
        title: `Webhook ${entry.attempt.eventType} → ${entry.attempt.result}`,
        detail: `${entry.attempt.url} · ${entry.attempt.statusCode ?? 'no answer'}${entry.attempt.error ? ` · ${entry.attempt.error}` : ''}`,
      };
    case 'callback_attempt':
      return {
        title: `Callback ${entry.attempt.kind} → ${entry.attempt.result}`,
        detail: `${entry.attempt.url} · ${entry.attempt.statusCode ?? 'no answer'}`,
      };
  }
}

/**
 * Who caused an event (docs/events.md, "Actor"), in words: a dashboard person by e-mail (`people` maps user
 * ids to e-mails; a removed person shows as their id), an API key or OAuth client by its id, the shopper by
 * the checkout or link they acted on, Kassa by its worker's name. Undefined for events older than actors.
 */
export function actorText(actor: Actor | null, people: ReadonlyMap<string, string>): string | undefined {
  if (!actor) return undefined;
  switch (actor.type) {
    case 'user':
      return `by ${people.get(actor.id) ?? `user ${actor.id}`} (dashboard)`;
    case 'credential':
      if (actor.id.startsWith('key_')) return `by API key ${actor.id}`;
      if (actor.id.startsWith('cli_')) return `by OAuth client ${actor.id}`;
      return `by API credential ${actor.id}`;
    case 'shopper':
      return actor.id === 'anonymous' ? 'by the shopper' : `by the shopper (${actor.id})`;
    case 'system':
      return `by Kassa (${actor.id})`;
  }
}

function Timeline({ entries, people }: { entries: TimelineEntry[]; people: ReadonlyMap<string, string> }) {
  if (entries.length === 0) return <p class="dash-muted">Nothing has happened yet.</p>;
  return (
    <ol class="dash-timeline">
      {entries.map((entry, index) => {
        const { title, detail } = describeEntry(entry);
        const actor = entry.kind === 'event' ? actorText(entry.event.actor, people) : undefined;
        return (
          <li key={index} class="dash-timeline__entry">
            <time dateTime={entry.at.toISOString()}>{dateTime(entry.at)}</time>
            <span class="dash-timeline__title">
              {title}
              {actor && <span class="dash-timeline__actor"> {actor}</span>}
            </span>
            <span class="dash-muted dash-code">{detail}</span>
          </li>
        );
      })}
    </ol>
  );
}

export function OrderPage(props: {
  nonce: string;
  viewer: Viewer;
  order: Order;
  payments: PaymentView[];
  timeline: TimelineEntry[];
  /** E-mails of the shop's people by user id, to name who did what on the timeline. */
  people: ReadonlyMap<string, string>;
  canMoveMoney: boolean;
  notice?: string;
  error?: string;
}) {
  const { order } = props;
  return (
    <AppPage
      title={`Order ${order.merchantOrderId}`}
      nonce={props.nonce}
      viewer={props.viewer}
      section="orders"
    >
      <p>
        <a class="dash-link" href="/dashboard/orders">
          ← Payments
        </a>
      </p>
      <h1 class="dash-title">
        Order {order.merchantOrderId} <StatusBadge status={order.status} />
      </h1>
      <p class="dash-muted dash-code">{order.id}</p>
      <Feedback notice={props.notice} error={props.error} />
      <div class="dash-grid">
        <section class="dash-card">
          <h2 class="dash-card__title">Amounts</h2>
          <Amounts order={order} />
        </section>
        <section class="dash-card">
          <h2 class="dash-card__title">Customer</h2>
          <Customer order={order} />
        </section>
      </div>
      <section class="dash-card">
        <h2 class="dash-card__title">Items</h2>
        <Items order={order} />
      </section>
      <h2 class="dash-subtitle">Payment attempts</h2>
      {props.payments.length === 0 ? (
        <p class="dash-muted">No payment attempts.</p>
      ) : (
        props.payments.map((view) => (
          <PaymentCard
            key={view.payment.id}
            view={view}
            csrfToken={props.viewer.csrfToken}
            canMoveMoney={props.canMoveMoney}
          />
        ))
      )}
      <section class="dash-card">
        <h2 class="dash-card__title">Timeline</h2>
        <Timeline entries={props.timeline} people={props.people} />
      </section>
    </AppPage>
  );
}
