-- Webhook endpoints, the deliveries the outbox fans events out to, and every delivery attempt (SPEC §6).
-- Retry state lives in the delivery row (attempt_count, next_attempt_at) and claims are leases in the row
-- (lease_until, lease_token): nothing about a delivery is only in a process's memory.

CREATE TABLE webhook_endpoints (
  id                          text PRIMARY KEY,
  merchant_id                 text NOT NULL REFERENCES merchants (id),
  livemode                    boolean NOT NULL,
  url                         text NOT NULL,
  description                 text,
  -- Event types, or {'*'} for every type. `ping` is never listed: it goes only to the endpoint it tests.
  enabled_events              text[] NOT NULL CHECK (cardinality(enabled_events) > 0),
  status                      text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
  disabled_reason             text,
  disabled_at                 timestamptz,
  -- `whsec_…` secrets, AES-256-GCM under the keyring purpose 'webhook-secret-encryption'. During a
  -- rotation overlap the previous secret signs too, until previous_secret_expires_at.
  secret_encrypted            bytea NOT NULL,
  previous_secret_encrypted   bytea,
  previous_secret_expires_at  timestamptz,
  version                     integer NOT NULL DEFAULT 1,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  -- Soft delete: the endpoint disappears from the API, its deliveries and attempts stay as history.
  deleted_at                  timestamptz
);
CREATE INDEX webhook_endpoints_merchant_idx
  ON webhook_endpoints (merchant_id, livemode, created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- Hot table (several writes per delivery), so it carries as few indexes as its queries need, and leaves room
-- in each page for HOT updates of the lease columns.
CREATE TABLE webhook_deliveries (
  id               text PRIMARY KEY,
  event_id         text NOT NULL REFERENCES events (id),
  endpoint_id      text NOT NULL REFERENCES webhook_endpoints (id),
  merchant_id      text NOT NULL,
  livemode         boolean NOT NULL,
  -- 'event': written by the fan-out, at most one per (event, endpoint); 'redelivery': asked for by the API.
  origin           text NOT NULL CHECK (origin IN ('event', 'redelivery')),
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
  -- Incremented when an attempt is claimed, so a delivery that crashes its worker still runs out of attempts.
  attempt_count    integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_until      timestamptz,
  lease_token      text,
  last_attempt_at  timestamptz,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz
) WITH (fillfactor = 85);
-- Makes the fan-out idempotent: a second fan-out of the same event (a crashed or concurrent worker) inserts
-- nothing. Also the index for "deliveries of an event" (with the next one for redeliveries).
CREATE UNIQUE INDEX webhook_deliveries_fanout_key ON webhook_deliveries (event_id, endpoint_id) WHERE origin = 'event';
CREATE INDEX webhook_deliveries_redelivery_idx ON webhook_deliveries (event_id) WHERE origin = 'redelivery';
-- Due work, oldest first; also serves "pending deliveries of an endpoint" (rare: disabling, deleting).
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- One row per attempt that was sent (append-only). The attempt number is taken when the attempt is claimed,
-- so it is unique per delivery.
CREATE TABLE webhook_delivery_attempts (
  delivery_id        text NOT NULL REFERENCES webhook_deliveries (id),
  attempt_number     integer NOT NULL,
  attempted_at       timestamptz NOT NULL,
  url                text NOT NULL,
  status_code        integer,
  latency_ms         integer NOT NULL,
  result             text NOT NULL CHECK (result IN ('succeeded', 'failed')),
  error              text,
  response_excerpt   text,
  response_truncated boolean NOT NULL DEFAULT false,
  next_attempt_at    timestamptz,
  PRIMARY KEY (delivery_id, attempt_number)
);
