import { ORDER_STATUSES } from '../../modules/orders/order.states.ts';
import type { Order } from '../../modules/orders/order.types.ts';
import { AppPage, type Viewer } from '../layout.tsx';
import type { OrderFilters } from '../queries.ts';
import { dateTime, money } from './format.ts';
import { ListTable, NumberedPager, SelectFilter, StatusBadge, StatusFilter } from './list-page.tsx';

/** The query string of `filters` with `page` replaced: filters stay in the URL, so a link shows the same list. */
export function filterQuery(filters: OrderFilters, page: number): string {
  const params = new URLSearchParams();
  if (filters.q) params.set('q', filters.q);
  if (filters.status) params.set('status', filters.status);
  if (filters.method) params.set('method', filters.method);
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  if (page > 1) params.set('page', String(page));
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function OrdersPage(props: {
  nonce: string;
  viewer: Viewer;
  filters: OrderFilters;
  orders: Order[];
  hasMore: boolean;
}) {
  const { filters } = props;
  return (
    <AppPage title="Payments" nonce={props.nonce} viewer={props.viewer} section="orders">
      <h1 class="dash-title">Payments</h1>
      <form class="dash-filters" method="get" action="/dashboard/orders" role="search">
        <div class="field dash-filters__search">
          <label class="field__label" for="q">
            Search
          </label>
          <input
            class="field__input"
            id="q"
            name="q"
            type="search"
            value={filters.q ?? ''}
            aria-describedby="q-hint"
          />
          <span class="field__hint" id="q-hint">
            Order number, customer e-mail, last 4 card digits, payment id or amount (12.50)
          </span>
        </div>
        <StatusFilter statuses={ORDER_STATUSES} selected={filters.status} />
        <SelectFilter
          id="method"
          name="method"
          label="Method"
          options={['card', 'invoice', 'wallet'].map((method) => ({ value: method, label: method }))}
          selected={filters.method}
        />
        <div class="field">
          <label class="field__label" for="from">
            From
          </label>
          <input class="field__input" id="from" name="from" type="date" value={filters.from ?? ''} />
        </div>
        <div class="field">
          <label class="field__label" for="to">
            To
          </label>
          <input class="field__input" id="to" name="to" type="date" value={filters.to ?? ''} />
        </div>
        <div class="dash-filters__actions">
          <button class="button button--primary dash-button" type="submit">
            Search
          </button>
          <a class="dash-link" href="/dashboard/orders">
            Clear
          </a>
          <a class="dash-link" href={`/dashboard/orders.csv${filterQuery(filters, 1)}`} download>
            Export CSV
          </a>
        </div>
      </form>
      <ListTable
        headings={['Order', 'Customer', 'Status', { label: 'Amount', numeric: true }, 'Created']}
        rowCount={props.orders.length}
        emptyText="No orders match."
        searchResult
        caption="Orders, newest first"
        modifier="dash-table--orders"
      >
        {props.orders.map((order) => (
          <tr key={order.id}>
            <td>
              <a href={`/dashboard/orders/${order.id}`}>{order.merchantOrderId}</a>
              <div class="dash-muted dash-code">{order.id}</div>
            </td>
            <td>{order.customer?.email ?? '—'}</td>
            <td>
              <StatusBadge status={order.status} />
            </td>
            <td class="num">{money(order.totalAmount, order.currency)}</td>
            <td>{dateTime(order.createdAt)}</td>
          </tr>
        ))}
      </ListTable>
      <NumberedPager
        page={filters.page}
        hasMore={props.hasMore}
        href={(page) => `/dashboard/orders${filterQuery(filters, page)}`}
      />
    </AppPage>
  );
}
