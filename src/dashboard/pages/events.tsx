import { EVENT_TYPES } from '../../modules/events/event.types.ts';
import type { ListedEvent } from '../../modules/events/event.repository.ts';
import { AppPage, type Viewer, Feedback } from '../layout.tsx';
import { dateTime } from './format.ts';
import { DeliveriesCard, prettyJson, type ShownDelivery } from './webhook-deliveries.tsx';
import { ListTable } from './list-page.tsx';

export type EventLogFilters = { type?: string; object?: string; startingAfter?: string };

/** The query string of a filter (and a cursor), so the list stays in the URL. */
export function eventsQuery(filters: EventLogFilters): string {
  const query = new URLSearchParams();
  if (filters.type) query.set('type', filters.type);
  if (filters.object) query.set('object', filters.object);
  if (filters.startingAfter) query.set('starting_after', filters.startingAfter);
  const text = query.toString();
  return text ? `?${text}` : '';
}

function actorText(event: ListedEvent): string {
  return event.actor ? `${event.actor.type} ${event.actor.id}` : '—';
}

export function EventsPage(props: {
  nonce: string;
  viewer: Viewer;
  events: ListedEvent[];
  filters: EventLogFilters;
  hasMore: boolean;
}) {
  const { viewer, filters } = props;
  const last = props.events.at(-1);
  return (
    <AppPage title="Events" nonce={props.nonce} viewer={viewer} section="webhooks">
      <h1 class="dash-title">Events</h1>
      <form class="dash-filters" method="get" action="/dashboard/events" role="search">
        <div class="field">
          <label class="field__label" for="type">
            Type
          </label>
          <select class="field__input" id="type" name="type">
            <option value="">Any type</option>
            {EVENT_TYPES.map((type) => (
              <option key={type} value={type} selected={filters.type === type}>
                {type}
              </option>
            ))}
          </select>
        </div>
        <div class="field dash-filters__search">
          <label class="field__label" for="object">
            Object id
          </label>
          <input
            class="field__input"
            id="object"
            name="object"
            maxLength={100}
            value={filters.object ?? ''}
          />
        </div>
        <div class="dash-filters__actions">
          <button class="button button--primary dash-button" type="submit">
            Filter
          </button>
          <a class="dash-link" href="/dashboard/events">
            Clear
          </a>
        </div>
      </form>
      <ListTable
        headings={['Event', 'Object', 'Actor', 'Created']}
        rowCount={props.events.length}
        emptyText="No events match."
        searchResult
        caption="Events, newest first"
      >
        {props.events.map((event) => (
          <tr key={event.id}>
            <td>
              <a href={`/dashboard/events/${event.id}`}>{event.type}</a>
              <div class="dash-muted dash-code">{event.id}</div>
              {event.pendingWebhooks > 0 && (
                <div class="dash-muted">{event.pendingWebhooks} deliveries pending</div>
              )}
            </td>
            <td class="dash-code">{event.objectId ?? '—'}</td>
            <td>{actorText(event)}</td>
            <td>{dateTime(event.createdAt)}</td>
          </tr>
        ))}
      </ListTable>
      <nav class="dash-pager" aria-label="Pages">
        {filters.startingAfter && (
          <a
            class="dash-link"
            href={`/dashboard/events${eventsQuery({ ...filters, startingAfter: undefined })}`}
          >
            Newest events
          </a>
        )}
        {props.hasMore && last && (
          <a
            class="dash-link"
            href={`/dashboard/events${eventsQuery({ ...filters, startingAfter: last.id })}`}
            rel="next"
          >
            Older events
          </a>
        )}
      </nav>
    </AppPage>
  );
}

export function EventPage(props: {
  nonce: string;
  viewer: Viewer;
  event: ListedEvent;
  deliveries: ShownDelivery[];
  canWrite: boolean;
  notice?: string;
  error?: string;
}) {
  const { viewer, event } = props;
  const rows: [string, string, string | undefined][] = [
    ['Id', event.id, undefined],
    ['Type', event.type, undefined],
    ['Created', dateTime(event.createdAt), undefined],
    ['Object', event.objectId ?? '—', undefined],
    ['Actor', actorText(event), undefined],
    ['Order', event.orderId ?? '—', event.orderId ? `/dashboard/orders/${event.orderId}` : undefined],
  ];
  return (
    <AppPage title={`Event ${event.type}`} nonce={props.nonce} viewer={viewer} section="webhooks">
      <p>
        <a class="dash-link" href="/dashboard/events">
          Events
        </a>
      </p>
      <h1 class="dash-title">{event.type}</h1>
      <Feedback notice={props.notice} error={props.error} />
      <section class="dash-card">
        <h2 class="dash-card__title">Event</h2>
        <dl class="details">
          {rows.map(([label, value, href]) => (
            <div class="details__row" key={label}>
              <dt>{label}</dt>
              <dd class="dash-code">{href ? <a href={href}>{value}</a> : value}</dd>
            </div>
          ))}
        </dl>
        <h3 class="dash-subtitle">Payload (data)</h3>
        <pre class="dash-pre">{prettyJson(event.data)}</pre>
      </section>
      <DeliveriesCard
        viewer={viewer}
        deliveries={props.deliveries}
        canWrite={props.canWrite}
        returnTo="event"
        show="endpoint"
      />
    </AppPage>
  );
}
