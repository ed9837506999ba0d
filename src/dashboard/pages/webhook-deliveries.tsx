import type { StoredEvent } from '../../modules/events/event.types.ts';
import type { WebhookEndpoint } from '../../modules/webhooks/webhook-endpoint.types.ts';
import type { WebhookDelivery } from '../../outbox/webhook-delivery.repository.ts';
import { buildWebhookPayload } from '../../outbox/webhook-signer.ts';
import { CsrfField, FORM_KEY_FIELD, type Viewer } from '../layout.tsx';
import { dateTime } from './format.ts';

/**
 * Webhook deliveries as the endpoint page and the event page show them: status, attempts, the request
 * (headers and body, rebuilt from the event exactly as the worker renders it; the signature is not stored)
 * and each attempt's response (status, body excerpt), with Redeliver.
 */

export type ShownDelivery = {
  delivery: WebhookDelivery;
  event: StoredEvent | undefined;
  /** Undefined when the endpoint was deleted since. */
  endpoint: WebhookEndpoint | undefined;
  /** The Redeliver form's own key (one redelivery per form). */
  formKey: string;
};

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function requestBody(event: StoredEvent, apiVersion: string): string {
  return prettyJson(
    JSON.parse(
      buildWebhookPayload({
        id: event.id,
        type: event.type,
        apiVersion,
        livemode: event.livemode,
        objectId: event.objectId,
        objectVersion: event.objectVersion,
        orderId: event.orderId,
        checkoutId: event.checkoutId,
        paymentId: event.paymentId,
        createdAt: event.createdAt,
        actor: event.actor,
        data: event.data,
      }),
    ),
  );
}

function DeliveryRequest({ shown }: { shown: ShownDelivery }) {
  const { delivery, event, endpoint } = shown;
  const firstAttempt = delivery.attempts[0];
  const timestamp = firstAttempt
    ? String(Math.floor(firstAttempt.attemptedAt.getTime() / 1000))
    : '(time of each attempt)';
  return (
    <div>
      <h3 class="dash-subtitle">Request</h3>
      <pre class="dash-pre">
        {`POST ${firstAttempt?.url ?? endpoint?.url ?? ''}\n` +
          `content-type: application/json\n` +
          `webhook-id: ${delivery.eventId}\n` +
          `webhook-timestamp: ${timestamp}\n` +
          `webhook-signature: v1,… (HMAC-SHA256 with the endpoint's secret; not stored)`}
      </pre>
      {event && endpoint ? (
        <pre class="dash-pre">{requestBody(event, endpoint.apiVersion)}</pre>
      ) : (
        <p class="dash-muted">The body is no longer available.</p>
      )}
    </div>
  );
}

function Attempts({ delivery }: { delivery: WebhookDelivery }) {
  if (delivery.attempts.length === 0) return <p class="dash-muted">Not sent yet.</p>;
  return (
    <ol class="dash-attempts">
      {delivery.attempts.map((attempt) => (
        <li key={attempt.number}>
          <h3 class="dash-subtitle">
            Attempt {attempt.number}:{' '}
            {attempt.statusCode === null ? 'no answer' : `HTTP ${attempt.statusCode}`} ({attempt.result},{' '}
            {attempt.latencyMs} ms, {dateTime(attempt.attemptedAt)})
          </h3>
          {attempt.error && <p>{attempt.error}</p>}
          {attempt.responseExcerpt !== null && attempt.responseExcerpt !== '' && (
            <pre class="dash-pre">
              {attempt.responseExcerpt}
              {attempt.responseTruncated ? '\n… (first 4 KiB)' : ''}
            </pre>
          )}
          {attempt.nextAttemptAt && <p class="dash-muted">Next attempt {dateTime(attempt.nextAttemptAt)}</p>}
        </li>
      ))}
    </ol>
  );
}

/** The Deliveries card of an event's page or an endpoint's page. */
export function DeliveriesCard(props: Parameters<typeof DeliveryList>[0]) {
  return (
    <section class="dash-card">
      <h2 class="dash-card__title">Deliveries</h2>
      <DeliveryList {...props} />
    </section>
  );
}

export function DeliveryList(props: {
  viewer: Viewer;
  deliveries: ShownDelivery[];
  canWrite: boolean;
  /** Which page the Redeliver answer returns to. */
  returnTo: 'endpoint' | 'event';
  /** Name the endpoint of each delivery (the event page) or the event (the endpoint page). */
  show: 'endpoint' | 'event';
}) {
  if (props.deliveries.length === 0) return <p class="dash-muted">No deliveries yet.</p>;
  return (
    <ul class="dash-deliveries">
      {props.deliveries.map((shown) => {
        const { delivery, endpoint, event } = shown;
        const status = delivery.status.toUpperCase();
        return (
          <li class="dash-delivery" key={delivery.id}>
            <div class="dash-delivery__head">
              <span class={`dash-status dash-status--${delivery.status}`}>{status}</span>{' '}
              {props.show === 'event' ? (
                <a href={`/dashboard/events/${delivery.eventId}`}>{event?.type ?? delivery.eventId}</a>
              ) : endpoint ? (
                <a class="dash-break" href={`/dashboard/webhooks/${endpoint.id}`}>
                  {endpoint.url}
                </a>
              ) : (
                <span class="dash-code">{delivery.endpointId} (deleted)</span>
              )}{' '}
              <span class="dash-muted">
                {delivery.attemptCount} {delivery.attemptCount === 1 ? 'attempt' : 'attempts'} ·{' '}
                {delivery.origin === 'redelivery' ? 'redelivery' : 'delivery'} ·{' '}
                {dateTime(delivery.createdAt)}
              </span>
              <div class="dash-muted dash-code">{delivery.id}</div>
              {delivery.lastError && delivery.status !== 'succeeded' && <div>{delivery.lastError}</div>}
            </div>
            <details class="dash-details">
              <summary>
                Request and response <span class="visually-hidden">of {delivery.id}</span>
              </summary>
              <DeliveryRequest shown={shown} />
              <h3 class="dash-subtitle">Responses</h3>
              <Attempts delivery={delivery} />
            </details>
            {props.canWrite && endpoint?.status === 'enabled' && (
              <form
                method="post"
                action={`/dashboard/webhooks/${delivery.endpointId}/deliveries/${delivery.id}/redeliver`}
              >
                <CsrfField token={props.viewer.csrfToken} />
                <input type="hidden" name={FORM_KEY_FIELD} value={shown.formKey} />
                <input type="hidden" name="return_to" value={props.returnTo} />
                <button class="button button--secondary dash-button" type="submit">
                  Redeliver <span class="visually-hidden">{delivery.id}</span>
                </button>
              </form>
            )}
          </li>
        );
      })}
    </ul>
  );
}
