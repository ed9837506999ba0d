-- Callbacks to the merchant (seed 001, SPEC §5): `ok` / `fail` / `open` while the shopper waits, `verify_order`
-- just before authorization, and `notification` when a pending payment is finalised later.

-- `notification` deliveries: one per payment, written in the SAME transaction as the event that finalised a
-- payment that had been PENDING (trigger below), so no code path that settles a payment — the shopper's
-- request, a processor notification, the recovery worker — can forget it. Retry state lives in the row
-- (attempt_count, next_attempt_at) and claims are leases in the row (lease_until, lease_token).
CREATE TABLE callback_notifications (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The event that finalised the payment: its `data` (the payment snapshot) is the body, its id the webhook-id.
  event_id         text NOT NULL UNIQUE REFERENCES events (id),
  merchant_id      text NOT NULL,
  livemode         boolean NOT NULL,
  checkout_id      text NOT NULL,
  order_id         text NOT NULL,
  payment_id       text NOT NULL,
  -- The checkout's callbacks.notification when the event happened.
  url              text NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  -- Incremented when an attempt is claimed, so a delivery that crashes its worker still runs out of attempts.
  attempt_count    integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_until      timestamptz,
  lease_token      text,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz
);
-- A pending payment is finalised once: the first event out of PENDING notifies, later ones (a capture after
-- the authorization) do not.
CREATE UNIQUE INDEX callback_notifications_payment_key ON callback_notifications (payment_id);
CREATE INDEX callback_notifications_due_idx ON callback_notifications (next_attempt_at) WHERE status = 'pending';

-- Every request Kassa made to a callback URL (append-only): what was sent where, what came back, how long it
-- took. The order timeline shows them next to events and webhook deliveries.
CREATE TABLE callback_attempts (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  merchant_id        text NOT NULL,
  livemode           boolean NOT NULL,
  checkout_id        text NOT NULL,
  order_id           text NOT NULL,
  payment_id         text NOT NULL,
  kind               text NOT NULL CHECK (kind IN ('ok', 'fail', 'open', 'notification', 'verify_order')),
  notification_id    bigint REFERENCES callback_notifications (id),
  attempt_number     integer NOT NULL DEFAULT 1,
  -- The `webhook-id` header sent (the receiver's idempotency key).
  webhook_id         text NOT NULL,
  url                text NOT NULL,
  status_code        integer,
  duration_ms        integer NOT NULL,
  -- ok / fail / open: 'html' | 'redirect' | 'error'; verify_order: 'accepted' | 'refused';
  -- notification: 'delivered' | 'failed'.
  result             text NOT NULL CHECK (result IN ('html', 'redirect', 'error', 'accepted', 'refused', 'delivered', 'failed')),
  error              text,
  response_excerpt   text,
  response_truncated boolean NOT NULL DEFAULT false,
  -- For a failed notification attempt: when it is tried again (null: not again).
  next_attempt_at    timestamptz,
  created_at         timestamptz NOT NULL
);
CREATE INDEX callback_attempts_order_idx ON callback_attempts (order_id, created_at, id);

-- The enqueue: an event that moves a payment out of PENDING, on a checkout with callbacks.notification, for a
-- payment that had been PENDING (a `payment.pending` event exists for it) → one notification row.
CREATE FUNCTION enqueue_callback_notification() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target text;
BEGIN
  SELECT c.callbacks ->> 'notification' INTO target
    FROM checkouts c
   WHERE c.id = NEW.checkout_id AND c.merchant_id = NEW.merchant_id AND c.livemode = NEW.livemode;
  IF target IS NULL THEN
    RETURN NULL;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM events p
                  WHERE p.order_id = NEW.order_id AND p.payment_id = NEW.payment_id
                    AND p.type = 'payment.pending' AND p.id <> NEW.id) THEN
    RETURN NULL;
  END IF;
  INSERT INTO callback_notifications (event_id, merchant_id, livemode, checkout_id, order_id, payment_id, url)
  VALUES (NEW.id, NEW.merchant_id, NEW.livemode, NEW.checkout_id, NEW.order_id, NEW.payment_id, target)
  ON CONFLICT (payment_id) DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER events_enqueue_callback_notification
  AFTER INSERT ON events
  FOR EACH ROW
  WHEN (NEW.type IN ('payment.authorized', 'payment.succeeded', 'payment.rejected', 'payment.canceled')
        AND NEW.payment_id IS NOT NULL AND NEW.checkout_id IS NOT NULL AND NEW.order_id IS NOT NULL)
  EXECUTE FUNCTION enqueue_callback_notification();
