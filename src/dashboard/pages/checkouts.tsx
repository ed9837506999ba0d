import { CHECKOUT_STATUSES } from '../../modules/checkouts/checkout.states.ts';
import { AppPage, type Viewer } from '../layout.tsx';
import type { CheckoutFilters, CheckoutListItem } from '../shop-queries.ts';
import { dateTime, money } from './format.ts';
import { ListTable, NumberedPager, StatusBadge, StatusFilter } from './list-page.tsx';

function pageHref(filters: CheckoutFilters, page: number): string {
  const params = new URLSearchParams();
  if (filters.status) params.set('status', filters.status);
  if (page > 1) params.set('page', String(page));
  const text = params.toString();
  return `/dashboard/checkouts${text ? `?${text}` : ''}`;
}

export function CheckoutsPage(props: {
  nonce: string;
  viewer: Viewer;
  filters: CheckoutFilters;
  checkouts: CheckoutListItem[];
  hasMore: boolean;
}) {
  const { filters } = props;
  return (
    <AppPage title="Checkouts" nonce={props.nonce} viewer={props.viewer} section="checkouts">
      <h1 class="dash-title">Checkouts</h1>
      <p class="dash-muted">
        Every checkout session, newest first: made with the API or opened from a payment link.
      </p>
      <form class="dash-filters" method="get" action="/dashboard/checkouts">
        <StatusFilter statuses={CHECKOUT_STATUSES} selected={filters.status} />
        <div class="dash-filters__actions">
          <button class="button button--primary dash-button" type="submit">
            Show
          </button>
        </div>
      </form>
      <ListTable
        headings={['Checkout', 'Order', 'Status', { label: 'Amount', numeric: true }, 'Created', 'Expires']}
        rowCount={props.checkouts.length}
        emptyText="No checkouts."
        searchResult
        caption="Checkouts, newest first"
      >
        {props.checkouts.map((checkout) => (
          <tr key={checkout.id}>
            <td>
              <span class="dash-code">{checkout.id}</span>
              {checkout.paymentLinkId && (
                <div class="dash-muted">
                  from{' '}
                  <a href={`/dashboard/payment-links/${checkout.paymentLinkId}`}>{checkout.paymentLinkId}</a>
                </div>
              )}
            </td>
            <td>
              <a href={`/dashboard/orders/${checkout.orderId}`}>{checkout.merchantOrderId}</a>
            </td>
            <td>
              <StatusBadge status={checkout.status} />
            </td>
            <td class="num">{money(checkout.totalAmount, checkout.currency)}</td>
            <td>{dateTime(checkout.createdAt)}</td>
            <td>{dateTime(checkout.expiresAt)}</td>
          </tr>
        ))}
      </ListTable>
      <NumberedPager page={filters.page} hasMore={props.hasMore} href={(page) => pageHref(filters, page)} />
    </AppPage>
  );
}
