-- The sandbox acquirer's own ledger: a simulated bank that lives beside Kassa's tables but is not part of
-- them. Only `src/connectors/sandbox/` reads or writes these tables; Kassa's payments reach them through
-- the connector interface, exactly as they would reach a real processor. The ledger is persistent so a
-- gateway restart loses nothing, and fault tests can compare Kassa's API objects with what the "bank" did.
--
-- Never stored here: card numbers and CVCs. A card is kept as brand + last 4 only.

-- One row per authorization the acquirer decided on (approved, declined, pending or awaiting the shopper).
-- Captured and refunded amounts are not stored here: they are derived from the operations below, under a
-- row lock on this table, so they can never drift from the ledger.
CREATE TABLE sandbox_acquirer_payments (
  reference    text PRIMARY KEY,
  payment_id   text NOT NULL,
  method_type  text NOT NULL CHECK (method_type IN ('card', 'invoice', 'wallet')),
  amount       bigint NOT NULL CHECK (amount > 0),
  currency     char(3) NOT NULL,
  status       text NOT NULL CHECK (status IN ('requires_action', 'pending', 'authorized', 'declined', 'voided')),
  decline_code text,
  -- What the shopper must do while status = 'requires_action'.
  action_kind  text CHECK (action_kind IN ('three_ds', 'wallet')),
  return_url   text NOT NULL,
  card_brand   text,
  card_last4   char(4),
  -- A pending card payment finalises itself at this time (worker: finaliseDuePending). Null: only an
  -- explicit resolution finalises it (invoices).
  finalise_at  timestamptz,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  -- action_kind stays set after the shopper acted: it records which action the payment went through.
  CHECK (status <> 'requires_action' OR action_kind IS NOT NULL),
  CHECK ((status = 'declined') = (decline_code IS NOT NULL))
);
CREATE INDEX sandbox_acquirer_payments_payment_idx ON sandbox_acquirer_payments (payment_id);
CREATE INDEX sandbox_acquirer_payments_due_idx ON sandbox_acquirer_payments (finalise_at)
  WHERE status = 'pending' AND finalise_at IS NOT NULL;

-- Append-only log of every request and decision. A request's idempotency key is unique: the same key again
-- returns `result` (the original answer) and never acts twice. `request_hash` (a digest of the request's
-- non-sensitive fields) detects a key reused for a different request. Decisions the acquirer takes itself
-- (kind 'resolve': a 3-D Secure or wallet completion, a pending payment finalised) have no key.
CREATE TABLE sandbox_acquirer_operations (
  id                text PRIMARY KEY,
  -- Insertion order, for listing the ledger as it happened (timestamps come from a clock tests control).
  seq               bigint GENERATED ALWAYS AS IDENTITY,
  idempotency_key   text UNIQUE,
  request_hash      text,
  kind              text NOT NULL CHECK (kind IN ('authorize', 'capture', 'void', 'refund', 'resolve')),
  -- Null only for an authorization that failed with a processor error before any payment existed.
  payment_reference text REFERENCES sandbox_acquirer_payments (reference),
  payment_id        text,
  amount            bigint,
  currency          char(3),
  -- authorize / resolve: the authorization status reached, or 'processor_error';
  -- capture / void / refund: 'succeeded' | 'failed'.
  outcome           text NOT NULL,
  failure_code      text,
  result            jsonb NOT NULL,
  created_at        timestamptz NOT NULL,
  CHECK ((kind = 'resolve') = (idempotency_key IS NULL))
);
CREATE INDEX sandbox_acquirer_operations_payment_idx ON sandbox_acquirer_operations (payment_reference, kind);
CREATE INDEX sandbox_acquirer_operations_payment_id_idx ON sandbox_acquirer_operations (payment_id);

-- Asynchronous status updates to Kassa, retried until the sink accepts them (at-least-once). A row is
-- claimed with a lease (`claimed_until`) so concurrent workers never deliver the same row at once, and a
-- crashed deliverer's claim simply expires.
CREATE TABLE sandbox_acquirer_notifications (
  id                text PRIMARY KEY,
  payment_reference text NOT NULL REFERENCES sandbox_acquirer_payments (reference),
  payment_id        text NOT NULL,
  status            text NOT NULL CHECK (status IN ('authorized', 'declined')),
  decline_code      text,
  occurred_at       timestamptz NOT NULL,
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz NOT NULL,
  claimed_until     timestamptz,
  delivered_at      timestamptz,
  last_error        text
);
CREATE INDEX sandbox_acquirer_notifications_due_idx ON sandbox_acquirer_notifications (next_attempt_at)
  WHERE delivered_at IS NULL;
CREATE INDEX sandbox_acquirer_notifications_payment_idx ON sandbox_acquirer_notifications (payment_reference);
