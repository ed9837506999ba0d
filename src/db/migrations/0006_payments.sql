-- Payments (one row per attempt to pay a checkout), their captures and refunds (append-only child rows),
-- saved cards, processed connector notifications, and per-merchant signing secrets for return URLs.

CREATE TABLE payments (
  id                    text PRIMARY KEY,
  merchant_id           text NOT NULL REFERENCES merchants (id),
  livemode              boolean NOT NULL,
  checkout_id           text NOT NULL REFERENCES checkouts (id),
  order_id              text NOT NULL REFERENCES orders (id),
  status                text NOT NULL CHECK (status IN ('PENDING', 'REQUIRES_ACTION', 'AUTHORIZED', 'SUCCEEDED', 'REJECTED', 'CANCELED')),
  -- Set while a processor call for this payment is in flight (its outcome not yet recorded). A payment
  -- stuck here past the recovery time is reconciled with the processor by a worker.
  processing_since      timestamptz,
  channel               text NOT NULL CHECK (channel IN ('hosted_page', 'api')),
  method                text NOT NULL CHECK (method IN ('card', 'invoice', 'wallet')),
  amount                bigint NOT NULL CHECK (amount > 0),
  currency              char(3) NOT NULL,
  capture_mode          text NOT NULL CHECK (capture_mode IN ('automatic', 'manual')),
  authorized_amount     bigint NOT NULL DEFAULT 0,
  captured_amount       bigint NOT NULL DEFAULT 0 CHECK (captured_amount >= 0),
  refunded_amount       bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
  connector_id          text NOT NULL,
  connector_reference   text,
  action_url            text,
  decline_code          text,
  failure_message       text,
  card_brand            text,
  card_last4            char(4),
  card_exp_month        smallint,
  card_exp_year         smallint,
  card_fingerprint      text,
  saved_payment_method_id text,
  version               integer NOT NULL DEFAULT 1,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CHECK (captured_amount <= authorized_amount),
  CHECK (refunded_amount <= captured_amount)
);
CREATE INDEX payments_checkout_idx ON payments (checkout_id);
CREATE INDEX payments_order_idx ON payments (order_id);
CREATE INDEX payments_merchant_idx ON payments (merchant_id, livemode, created_at DESC, id DESC);
CREATE INDEX payments_processing_idx ON payments (processing_since) WHERE processing_since IS NOT NULL;
CREATE INDEX payments_action_idx ON payments (updated_at) WHERE status = 'REQUIRES_ACTION';
-- A checkout is paid at most once: at most one payment per checkout that holds or may hold money.
-- (An attempt in flight has status PENDING; REJECTED and CANCELED attempts do not count.)
CREATE UNIQUE INDEX payments_one_live_attempt_per_checkout ON payments (checkout_id)
  WHERE status IN ('PENDING', 'REQUIRES_ACTION', 'AUTHORIZED', 'SUCCEEDED');

CREATE TABLE captures (
  id                  text PRIMARY KEY,
  payment_id          text NOT NULL REFERENCES payments (id),
  merchant_id         text NOT NULL,
  livemode            boolean NOT NULL,
  amount              bigint NOT NULL CHECK (amount > 0),
  status              text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
  connector_reference text,
  failure_message     text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX captures_payment_idx ON captures (payment_id);

CREATE TABLE refunds (
  id                  text PRIMARY KEY,
  payment_id          text NOT NULL REFERENCES payments (id),
  merchant_id         text NOT NULL,
  livemode            boolean NOT NULL,
  amount              bigint NOT NULL CHECK (amount > 0),
  reason              text,
  status              text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
  connector_reference text,
  failure_message     text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id);

-- Asynchronous processor notifications already applied: a duplicate is recognised and ignored.
CREATE TABLE connector_notifications (
  notification_id text PRIMARY KEY,
  connector_id    text NOT NULL,
  payment_id      text,
  received_at     timestamptz NOT NULL DEFAULT now()
);

-- Cards a shopper chose to save (allow_save_payment_methods). The card data needed to charge again is
-- encrypted with a key derived from the master key; brand, last 4 and expiry are kept in clear for display.
CREATE TABLE saved_payment_methods (
  id                 text PRIMARY KEY,
  merchant_id        text NOT NULL,
  livemode           boolean NOT NULL,
  customer_id        text NOT NULL REFERENCES customers (id),
  card_brand         text NOT NULL,
  card_last4         char(4) NOT NULL,
  card_exp_month     smallint NOT NULL,
  card_exp_year      smallint NOT NULL,
  card_fingerprint   text NOT NULL,
  card_encrypted     bytea NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  deleted_at         timestamptz,
  UNIQUE (customer_id, card_fingerprint)
);

-- Per merchant and mode: the secret that signs return URLs (completed / canceled redirects) so the
-- merchant can tell a genuine return from a forged one. Encrypted at rest.
CREATE TABLE merchant_signing_secrets (
  merchant_id      text NOT NULL REFERENCES merchants (id),
  livemode         boolean NOT NULL,
  secret_encrypted bytea NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (merchant_id, livemode)
);
