import type { PaymentLink } from '../../modules/payment-links/payment-link.types.ts';
import type { FormProblem } from '../form-errors.ts';
import { AppPage, CsrfField, FORM_KEY_FIELD, Notice, type Viewer, Feedback } from '../layout.tsx';
import { dateTime, money } from './format.ts';
import { ListTable, StatusBadge } from './list-page.tsx';

/** What the create form typed, shown again when it was refused. */
export type LinkDraft = {
  amount: string;
  currency: string;
  description: string;
  merchantOrderId: string;
  country: string;
  completedUrl: string;
  canceledUrl: string;
  usage: string;
  maxCompletions: string;
  validDays: string;
};

export const EMPTY_LINK_DRAFT: LinkDraft = {
  amount: '',
  currency: 'EUR',
  description: '',
  merchantOrderId: '',
  country: 'DK',
  completedUrl: '',
  canceledUrl: '',
  usage: 'single',
  maxCompletions: '',
  validDays: '14',
};

function describe(link: PaymentLink): string {
  return link.order.products[0]?.name ?? link.order.merchant_order_id;
}

function Field(props: {
  id: keyof LinkDraft;
  name: string;
  label: string;
  draft: LinkDraft;
  hint?: string;
  type?: 'text' | 'url';
  required?: boolean;
  inputmode?: 'decimal' | 'numeric';
}) {
  return (
    <div class="field">
      <label class="field__label" for={`link-${props.name}`}>
        {props.label}
      </label>
      <input
        class="field__input"
        id={`link-${props.name}`}
        name={props.name}
        type="text"
        value={props.draft[props.id]}
        required={props.required}
        inputMode={props.type === 'url' ? 'url' : props.inputmode}
        aria-describedby={props.hint ? `link-${props.name}-hint` : undefined}
      />
      {props.hint && (
        <span class="field__hint" id={`link-${props.name}-hint`}>
          {props.hint}
        </span>
      )}
    </div>
  );
}

export function PaymentLinksPage(props: {
  nonce: string;
  viewer: Viewer;
  links: PaymentLink[];
  canWrite: boolean;
  formKey: string;
  draft: LinkDraft;
  problems?: FormProblem[];
  notice?: string;
}) {
  const { draft } = props;
  return (
    <AppPage title="Payment links" nonce={props.nonce} viewer={props.viewer} section="payment-links">
      <h1 class="dash-title">Payment links</h1>
      {props.notice && <Notice kind="success">{props.notice}</Notice>}
      {props.canWrite && (
        <section class="dash-card" aria-labelledby="new-link-title">
          <h2 class="dash-card__title" id="new-link-title">
            New payment link
          </h2>
          {props.problems && props.problems.length > 0 && (
            <Notice kind="error">
              <p>The link was not created:</p>
              <ul>
                {props.problems.map((problem, index) => (
                  <li key={index}>
                    {problem.field ? `${problem.field}: ${problem.message}` : problem.message}
                  </li>
                ))}
              </ul>
            </Notice>
          )}
          <form class="dash-form dash-form--grid" method="post" action="/dashboard/payment-links">
            <CsrfField token={props.viewer.csrfToken} />
            <input type="hidden" name={FORM_KEY_FIELD} value={props.formKey} />
            <Field
              id="amount"
              name="amount"
              label="Amount"
              draft={draft}
              required
              inputmode="decimal"
              hint="e.g. 49.95"
            />
            <Field
              id="currency"
              name="currency"
              label="Currency"
              draft={draft}
              required
              hint="ISO code, e.g. EUR, DKK"
            />
            <Field
              id="description"
              name="description"
              label="Description"
              draft={draft}
              required
              hint="What the shopper pays for"
            />
            <Field
              id="merchantOrderId"
              name="merchant_order_id"
              label="Order number"
              draft={draft}
              hint="Your reference; one is made when empty"
            />
            <Field
              id="country"
              name="country"
              label="Country"
              draft={draft}
              required
              hint="The shopper's country, e.g. DK"
            />
            <Field
              id="completedUrl"
              name="completed_redirect_url"
              label="After paying, go to"
              type="url"
              draft={draft}
              hint="Optional: without it the shopper stays on Kassa's paid page"
            />
            <Field
              id="canceledUrl"
              name="canceled_redirect_url"
              label="After canceling, go to"
              type="url"
              draft={draft}
              hint="Optional: without it the shopper stays on Kassa's canceled page"
            />
            <div class="field">
              <label class="field__label" for="link-usage">
                Usage
              </label>
              <select class="field__input" id="link-usage" name="usage">
                <option value="single" selected={draft.usage !== 'reusable'}>
                  Single use: paid once
                </option>
                <option value="reusable" selected={draft.usage === 'reusable'}>
                  Reusable: paid up to a number of times
                </option>
              </select>
            </div>
            <Field
              id="maxCompletions"
              name="max_completions"
              label="Times it can be paid"
              draft={draft}
              inputmode="numeric"
              hint="Reusable links only"
            />
            <Field
              id="validDays"
              name="valid_days"
              label="Valid for (days)"
              draft={draft}
              inputmode="numeric"
              hint="1 to 90"
            />
            <div class="dash-form__actions">
              <button class="button button--primary dash-button" type="submit">
                Create link
              </button>
            </div>
          </form>
        </section>
      )}
      <section class="dash-card" aria-labelledby="links-title">
        <h2 class="dash-card__title" id="links-title">
          Links ({props.viewer.livemode ? 'live' : 'test'} mode)
        </h2>
        <ListTable
          headings={['Link', 'Status', { label: 'Amount', numeric: true }, 'Paid', 'Expires']}
          rowCount={props.links.length}
          emptyText="No payment links."
          caption="Payment links, newest first"
        >
          {props.links.map((link) => (
            <tr key={link.id}>
              <td>
                <a href={`/dashboard/payment-links/${link.id}`}>{describe(link)}</a>
                <div class="dash-muted dash-code">{link.id}</div>
              </td>
              <td>
                <StatusBadge status={link.status} />
              </td>
              <td class="num">{money(link.order.total_amount, link.order.currency)}</td>
              <td>
                {link.completions} of {link.maxCompletions}
              </td>
              <td>{dateTime(link.expiresAt)}</td>
            </tr>
          ))}
        </ListTable>
      </section>
    </AppPage>
  );
}

export function PaymentLinkPage(props: {
  nonce: string;
  viewer: Viewer;
  link: PaymentLink;
  url: string;
  qrSvg: string;
  canWrite: boolean;
  notice?: string;
  error?: string;
}) {
  const { link } = props;
  return (
    <AppPage
      title={`Payment link ${link.id}`}
      nonce={props.nonce}
      viewer={props.viewer}
      section="payment-links"
    >
      <p>
        <a class="dash-link" href="/dashboard/payment-links">
          All payment links
        </a>
      </p>
      <h1 class="dash-title">{describe(link)}</h1>
      <Feedback notice={props.notice} error={props.error} />
      <section class="dash-card dash-link-share" aria-labelledby="share-title">
        <h2 class="dash-card__title" id="share-title">
          Share
        </h2>
        <div class="dash-link-share__body">
          {/* The QR code is drawn on the server as SVG (the qrcode package); it encodes the URL beside it. */}
          <div
            class="dash-qr"
            role="img"
            aria-label={`QR code of the link ${props.url}`}
            dangerouslySetInnerHTML={{ __html: props.qrSvg }}
          />
          <div class="dash-link-share__url">
            <label class="field__label" for="link-url">
              Link
            </label>
            <input class="field__input dash-code" id="link-url" type="text" readOnly value={props.url} />
            <div class="dash-form__actions">
              <button class="button button--secondary dash-button" type="button" data-copy="link-url" hidden>
                Copy link
              </button>
              <a class="dash-link" href={props.url} target="_blank" rel="noopener">
                Open link
              </a>
            </div>
            <p class="dash-muted" role="status" data-copy-status="link-url" />
          </div>
        </div>
      </section>
      <section class="dash-card" aria-labelledby="link-details-title">
        <h2 class="dash-card__title" id="link-details-title">
          Details
        </h2>
        <dl class="dash-facts">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={link.status} />
          </dd>
          <dt>Amount</dt>
          <dd>{money(link.order.total_amount, link.order.currency)}</dd>
          <dt>Order number</dt>
          <dd>{link.order.merchant_order_id}</dd>
          <dt>Usage</dt>
          <dd>
            {link.usage === 'single' ? 'Single use' : 'Reusable'}: paid {link.completions} of{' '}
            {link.maxCompletions} times
          </dd>
          <dt>Created</dt>
          <dd>{dateTime(link.createdAt)}</dd>
          <dt>Can be opened until</dt>
          <dd>{dateTime(link.expiresAt)}</dd>
          <dt>Id</dt>
          <dd class="dash-code">{link.id}</dd>
        </dl>
        {props.canWrite && link.status === 'ACTIVE' && (
          <form method="post" action={`/dashboard/payment-links/${link.id}/deactivate`}>
            <CsrfField token={props.viewer.csrfToken} />
            <button class="button button--secondary dash-button" type="submit">
              Deactivate link
            </button>
          </form>
        )}
      </section>
      <script src="/public/dashboard/shop.js" nonce={props.nonce} defer />
    </AppPage>
  );
}
