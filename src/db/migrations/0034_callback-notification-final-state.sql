-- `notification` carries the payment's final state (docs/callbacks.md). It used to be written once per
-- payment, for the first event out of PENDING: an automatically captured payment was notified as AUTHORIZED
-- although it was SUCCEEDED (and its order PAID) a moment later, and a later capture was never notified.
--
-- Now every later state change of a payment that had been PENDING re-arms the payment's one delivery row
-- with the newer event: a delivery not yet sent carries the newest state only (an authorization captured in
-- the same breath is notified once, as SUCCEEDED); one already sent (or given up) is sent again with the new
-- state and a fresh retry schedule. Because it stays one row per payment, a payment's notifications are
-- leased one at a time and reach the merchant in order. A row re-armed while an attempt is in flight keeps
-- its lease; the worker sees that the event changed under it and leaves the row due (callback.repository.ts).
CREATE OR REPLACE FUNCTION enqueue_callback_notification() RETURNS trigger LANGUAGE plpgsql AS $$
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
  ON CONFLICT (payment_id) DO UPDATE
     SET event_id = EXCLUDED.event_id, url = EXCLUDED.url, status = 'pending', attempt_count = 0, next_attempt_at = now(),
         last_error = NULL, completed_at = NULL;
  RETURN NULL;
END
$$;
