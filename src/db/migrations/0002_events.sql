-- The transactional outbox: every state change inserts its event row in the same transaction as the
-- change. Workers fan pending events out to webhook endpoints (and later channels) under SKIP LOCKED
-- leases; the fan-out state lives in the row, never in memory.

CREATE TABLE events (
  seq               bigserial UNIQUE,
  id                text PRIMARY KEY,
  merchant_id       text NOT NULL REFERENCES merchants (id),
  livemode          boolean NOT NULL,
  type              text NOT NULL,
  object_id         text,
  object_version    integer,
  order_id          text,
  checkout_id       text,
  payment_id        text,
  data              jsonb NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  fanout_state      text NOT NULL DEFAULT 'pending' CHECK (fanout_state IN ('pending', 'done')),
  fanout_lease_until timestamptz
);
CREATE INDEX events_pending_fanout_idx ON events (seq) WHERE fanout_state = 'pending';
CREATE INDEX events_merchant_created_idx ON events (merchant_id, livemode, created_at DESC, id DESC);
CREATE INDEX events_order_idx ON events (order_id) WHERE order_id IS NOT NULL;
CREATE INDEX events_checkout_idx ON events (checkout_id) WHERE checkout_id IS NOT NULL;
