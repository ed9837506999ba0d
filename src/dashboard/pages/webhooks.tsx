import type { WebhookEndpoint } from '../../modules/webhooks/webhook-endpoint.types.ts';
import { ALL_EVENTS, SUBSCRIBABLE_EVENT_TYPES } from '../../modules/webhooks/webhook-endpoint.types.ts';
import { AppPage, CsrfField, FORM_KEY_FIELD, type Viewer, Feedback } from '../layout.tsx';
import { dateTime } from './format.ts';
import { ListTable } from './list-page.tsx';

/** A signing secret made just now: shown in this answer only (Kassa keeps it encrypted, never shows it again). */
export type RevealedSecret = { endpointId: string; secret: string; previousExpiresAt: Date | null };

export function SecretCard({ revealed }: { revealed: RevealedSecret }) {
  return (
    <section class="dash-card dash-secret" aria-labelledby="secret-title">
      <h2 class="dash-card__title" id="secret-title">
        Signing secret of {revealed.endpointId}
      </h2>
      <p>Copy it now: it is shown only once.</p>
      <p>
        <code class="dash-code dash-secret__value">{revealed.secret}</code>
      </p>
      {revealed.previousExpiresAt && (
        <p class="dash-muted">
          Until {dateTime(revealed.previousExpiresAt)} every delivery is signed with both the new and the
          previous secret, so your receiver can switch without missing a webhook.
        </p>
      )}
    </section>
  );
}

export function EndpointStatus({ status }: { status: WebhookEndpoint['status'] }) {
  return <span class={`dash-status dash-status--${status}`}>{status}</span>;
}

export function eventsText(events: readonly string[]): string {
  return events.includes(ALL_EVENTS) ? 'every event type' : events.join(', ');
}

/** The event types to subscribe to: every type (`*`, including types added later) or the ones ticked. */
export function EventChoices(props: { idPrefix: string; chosen: readonly string[] }) {
  const chosen = new Set(props.chosen);
  return (
    <fieldset class="field">
      <legend class="field__label">Events to send</legend>
      <label class="checkbox">
        <input
          class="checkbox__input"
          type="checkbox"
          name="enabled_events"
          value={ALL_EVENTS}
          checked={chosen.has(ALL_EVENTS)}
        />{' '}
        Every event type, including types added later
      </label>
      <div class="dash-scopes">
        {SUBSCRIBABLE_EVENT_TYPES.map((type) => (
          <label class="checkbox" key={type}>
            <input
              class="checkbox__input"
              type="checkbox"
              name="enabled_events"
              value={type}
              id={`${props.idPrefix}-${type}`}
              checked={chosen.has(type)}
            />{' '}
            {type}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function WebhooksPage(props: {
  nonce: string;
  viewer: Viewer;
  endpoints: WebhookEndpoint[];
  canWrite: boolean;
  formKey: string;
  revealed?: RevealedSecret;
  notice?: string;
  error?: string;
  /** What the create form held when it was refused, so nothing typed is lost. */
  draft?: { url: string; description: string; events: string[] };
}) {
  const { viewer } = props;
  return (
    <AppPage title="Webhooks" nonce={props.nonce} viewer={viewer} section="webhooks">
      <h1 class="dash-title">Webhooks</h1>
      <Feedback notice={props.notice} error={props.error} />
      {props.revealed && <SecretCard revealed={props.revealed} />}
      <section class="dash-card">
        <h2 class="dash-card__title">Endpoints ({viewer.livemode ? 'live' : 'test'} mode)</h2>
        <ListTable
          headings={['Endpoint', 'Events', 'Status', 'Created']}
          rowCount={props.endpoints.length}
          emptyText="No webhook endpoints."
        >
          {props.endpoints.map((endpoint) => (
            <tr key={endpoint.id}>
              <td>
                <a class="dash-break" href={`/dashboard/webhooks/${endpoint.id}`}>
                  {endpoint.url}
                </a>
                {endpoint.description && <div>{endpoint.description}</div>}
                <div class="dash-muted dash-code">{endpoint.id}</div>
              </td>
              <td>{eventsText(endpoint.enabledEvents)}</td>
              <td>
                <EndpointStatus status={endpoint.status} />
              </td>
              <td>{dateTime(endpoint.createdAt)}</td>
            </tr>
          ))}
        </ListTable>
        <p>
          <a class="dash-link" href="/dashboard/events">
            Events log
          </a>
        </p>
      </section>
      {props.canWrite && (
        <section class="dash-card">
          <h2 class="dash-card__title">Add an endpoint</h2>
          <form class="dash-form" method="post" action="/dashboard/webhooks">
            <CsrfField token={viewer.csrfToken} />
            <input type="hidden" name={FORM_KEY_FIELD} value={props.formKey} />
            <div class="field">
              <label class="field__label" for="endpoint-url">
                URL
              </label>
              <input
                class="field__input"
                id="endpoint-url"
                name="url"
                type="url"
                required
                maxLength={2048}
                value={props.draft?.url ?? ''}
                aria-describedby="endpoint-url-hint"
              />
              <p class="dash-muted" id="endpoint-url-hint">
                https:// in live mode; http:// is accepted in test mode.
              </p>
            </div>
            <div class="field">
              <label class="field__label" for="endpoint-description">
                Description
              </label>
              <input
                class="field__input"
                id="endpoint-description"
                name="description"
                maxLength={500}
                value={props.draft?.description ?? ''}
              />
            </div>
            <EventChoices idPrefix="new" chosen={props.draft?.events ?? [ALL_EVENTS]} />
            <button class="button button--primary dash-button" type="submit">
              Add endpoint
            </button>
          </form>
        </section>
      )}
    </AppPage>
  );
}
