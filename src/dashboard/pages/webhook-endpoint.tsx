import { EVENT_TYPES } from '../../modules/events/event.types.ts';
import type { WebhookEndpoint } from '../../modules/webhooks/webhook-endpoint.types.ts';
import { AppPage, CsrfField, FORM_KEY_FIELD, type Viewer, Feedback, StatusToggle } from '../layout.tsx';
import { dateTime } from './format.ts';
import { DeliveriesCard, type ShownDelivery } from './webhook-deliveries.tsx';
import { EndpointStatus, EventChoices, eventsText, SecretCard, type RevealedSecret } from './webhooks.tsx';

/** How long the previous secret keeps signing after a rotation (the API's `expire_previous_in_seconds`). */
export const OVERLAP_CHOICES: readonly { seconds: number; label: string }[] = [
  { seconds: 86_400, label: '24 hours' },
  { seconds: 3_600, label: '1 hour' },
  { seconds: 7 * 86_400, label: '7 days' },
  { seconds: 0, label: 'No overlap: the old secret stops at once' },
];

export function WebhookEndpointPage(props: {
  nonce: string;
  viewer: Viewer;
  endpoint: WebhookEndpoint;
  deliveries: ShownDelivery[];
  canWrite: boolean;
  formKeys: { rotate: string; test: string };
  revealed?: RevealedSecret;
  notice?: string;
  error?: string;
}) {
  const { viewer, endpoint } = props;
  const overlapUntil =
    endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date()
      ? endpoint.previousSecretExpiresAt
      : undefined;
  const action = (path: string) => `/dashboard/webhooks/${endpoint.id}/${path}`;
  return (
    <AppPage title="Webhook endpoint" nonce={props.nonce} viewer={viewer} section="webhooks">
      <p>
        <a class="dash-link" href="/dashboard/webhooks">
          Webhooks
        </a>
      </p>
      <h1 class="dash-title dash-break">{endpoint.url}</h1>
      <Feedback notice={props.notice} error={props.error} />
      {props.revealed && <SecretCard revealed={props.revealed} />}
      <section class="dash-card">
        <h2 class="dash-card__title">Endpoint</h2>
        <dl class="details">
          {(
            [
              ['Id', <span class="dash-code">{endpoint.id}</span>],
              ['Status', <EndpointStatus status={endpoint.status} />],
              ['Description', endpoint.description ?? '—'],
              ['Events', eventsText(endpoint.enabledEvents)],
              ['API version', endpoint.apiVersion],
              ['Created', dateTime(endpoint.createdAt)],
            ] as const
          ).map(([label, value]) => (
            <div class="details__row" key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
          {endpoint.disabledReason && endpoint.status === 'disabled' && (
            <div class="details__row">
              <dt>Disabled</dt>
              <dd>
                {endpoint.disabledMessage}
                {endpoint.disabledAt && ` (${dateTime(endpoint.disabledAt)})`}
              </dd>
            </div>
          )}
          {overlapUntil && (
            <div class="details__row">
              <dt>Previous secret</dt>
              <dd>Still signs every delivery until {dateTime(overlapUntil)}</dd>
            </div>
          )}
        </dl>
        {props.canWrite && (
          <div class="dash-row-actions">
            <StatusToggle
              action={action('status')}
              csrfToken={viewer.csrfToken}
              enabled={endpoint.status === 'enabled'}
              values={{ enabled: 'enabled', disabled: 'disabled' }}
            />
            {endpoint.status === 'enabled' && (
              <form method="post" action={action('test')}>
                <CsrfField token={viewer.csrfToken} />
                <input type="hidden" name={FORM_KEY_FIELD} value={props.formKeys.test} />
                <label for="test-event-type">Event type</label>{' '}
                <select id="test-event-type" name="type">
                  {EVENT_TYPES.map((type) => (
                    <option value={type} selected={type === 'ping'}>
                      {type}
                    </option>
                  ))}
                </select>{' '}
                <button class="button button--secondary dash-button" type="submit">
                  Send test event
                </button>
              </form>
            )}
          </div>
        )}
        {props.canWrite && endpoint.status === 'enabled' && (
          <p class="dash-muted">
            The test event is a <code class="dash-code">ping</code>, or an example of the event type you
            choose (its ids are examples), sent to this endpoint only, signed and retried like any other.
          </p>
        )}
      </section>
      {props.canWrite && (
        <section class="dash-card">
          <h2 class="dash-card__title">Events</h2>
          <form class="dash-form" method="post" action={action('events')}>
            <CsrfField token={viewer.csrfToken} />
            <EventChoices idPrefix="edit" chosen={endpoint.enabledEvents} />
            <button class="button button--primary dash-button" type="submit">
              Save events
            </button>
          </form>
        </section>
      )}
      {props.canWrite && (
        <section class="dash-card">
          <h2 class="dash-card__title">Rotate the signing secret</h2>
          <form class="dash-form" method="post" action={action('rotate-secret')}>
            <CsrfField token={viewer.csrfToken} />
            <input type="hidden" name={FORM_KEY_FIELD} value={props.formKeys.rotate} />
            <div class="field">
              <label class="field__label" for="overlap">
                Keep signing with the current secret for
              </label>
              <select class="field__input" id="overlap" name="overlap">
                {OVERLAP_CHOICES.map((choice) => (
                  <option key={choice.seconds} value={String(choice.seconds)}>
                    {choice.label}
                  </option>
                ))}
              </select>
            </div>
            <button class="button button--secondary dash-button" type="submit">
              Rotate secret
            </button>
          </form>
        </section>
      )}
      <DeliveriesCard
        viewer={viewer}
        deliveries={props.deliveries}
        canWrite={props.canWrite}
        returnTo="endpoint"
        show="event"
      />
    </AppPage>
  );
}
