-- Checkout sessions, their orders, customers and payment-method settings (SPEC §3, §4).
-- Every row belongs to one merchant in one mode (merchant_id, livemode); every query filters by both.
-- Amounts are bigint minor units of the order's currency; the application refuses anything above 2^53 − 1.

-- One customer per merchant, mode and e-mail address (compared case-insensitively), reused by every checkout.
CREATE TABLE customers (
  id               text PRIMARY KEY,
  merchant_id      text NOT NULL REFERENCES merchants (id),
  livemode         boolean NOT NULL,
  email            text NOT NULL,
  email_normalized text NOT NULL,
  first_name       text,
  last_name        text,
  phone            text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  UNIQUE (merchant_id, livemode, email_normalized)
);

CREATE TABLE checkouts (
  id                         text PRIMARY KEY,
  merchant_id                text NOT NULL REFERENCES merchants (id),
  livemode                   boolean NOT NULL,
  status                     text NOT NULL CHECK (status IN ('OPEN', 'COMPLETED', 'CANCELED', 'EXPIRED')),
  completed_redirect_url     text NOT NULL,
  canceled_redirect_url      text NOT NULL,
  -- Effective callback URLs (request merged over the merchant's defaults at creation): {ok, fail, open, …}.
  callbacks                  jsonb NOT NULL DEFAULT '{}'::jsonb,
  capture                    text NOT NULL CHECK (capture IN ('automatic', 'manual')),
  allow_save_payment_methods boolean NOT NULL DEFAULT false,
  locale                     text NOT NULL,
  -- The checkout's own restriction of methods; NULL = whatever the merchant's settings allow.
  payment_methods            text[],
  metadata                   jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- The browser-safe client token is stored only as its SHA-256 digest.
  client_token_sha256        bytea NOT NULL UNIQUE,
  -- Set by the payment flow once a payment attempt was made; the order can no longer be replaced.
  payment_started            boolean NOT NULL DEFAULT false,
  -- A payment attempt in flight (e.g. a 3-D Secure challenge); the expiry sweep leaves such sessions alone.
  active_payment_id          text,
  expires_at                 timestamptz NOT NULL,
  completed_at               timestamptz,
  canceled_at                timestamptz,
  expired_at                 timestamptz,
  created_at                 timestamptz NOT NULL,
  updated_at                 timestamptz NOT NULL,
  version                    integer NOT NULL DEFAULT 1
);
CREATE INDEX checkouts_merchant_created_idx ON checkouts (merchant_id, livemode, created_at DESC, id DESC);
-- The expiry sweep scans only open sessions, oldest deadline first.
CREATE INDEX checkouts_open_expiry_idx ON checkouts (expires_at) WHERE status = 'OPEN';

-- One order per checkout session. Replaced in place (same id, version + 1) while no payment has started.
CREATE TABLE orders (
  id                 text PRIMARY KEY,
  merchant_id        text NOT NULL REFERENCES merchants (id),
  livemode           boolean NOT NULL,
  checkout_id        text NOT NULL UNIQUE REFERENCES checkouts (id),
  status             text NOT NULL CHECK (status IN ('CREATED', 'PENDING', 'AUTHORIZED', 'PAID',
                       'PARTIALLY_REFUNDED', 'REFUNDED', 'CANCELED', 'EXPIRED')),
  merchant_order_id  text NOT NULL,
  currency           char(3) NOT NULL,
  country_code       char(2) NOT NULL,
  subtotal_amount    bigint NOT NULL CHECK (subtotal_amount >= 0),
  -- [{amount, description?}], amounts in minor units.
  discounts          jsonb NOT NULL DEFAULT '[]'::jsonb,
  taxes              jsonb NOT NULL DEFAULT '[]'::jsonb,
  shipping_amount    bigint NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0),
  total_amount       bigint NOT NULL CHECK (total_amount > 0),
  -- [{id, name, quantity, unit_price}].
  products           jsonb NOT NULL DEFAULT '[]'::jsonb,
  customer_id        text REFERENCES customers (id),
  metadata           jsonb NOT NULL DEFAULT '{}'::jsonb,
  authorized_amount  bigint NOT NULL DEFAULT 0 CHECK (authorized_amount >= 0),
  captured_amount    bigint NOT NULL DEFAULT 0 CHECK (captured_amount >= 0 AND captured_amount <= total_amount),
  refunded_amount    bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= captured_amount),
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  version            integer NOT NULL DEFAULT 1
);
CREATE INDEX orders_merchant_created_idx ON orders (merchant_id, livemode, created_at DESC, id DESC);
CREATE INDEX orders_merchant_order_id_idx ON orders (merchant_id, livemode, merchant_order_id);

-- AltaPay's "terminal settings": per merchant, mode and method. NULL in a rule column = no restriction.
CREATE TABLE payment_method_settings (
  merchant_id   text NOT NULL REFERENCES merchants (id),
  livemode      boolean NOT NULL,
  method        text NOT NULL CHECK (method IN ('card', 'invoice', 'wallet')),
  enabled       boolean NOT NULL,
  countries     text[],
  currencies    text[],
  min_amount    bigint CHECK (min_amount >= 0),
  max_amount    bigint CHECK (max_amount >= 0),
  devices       text[],
  display_order integer NOT NULL,
  card_brands   text[],
  version       integer NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (merchant_id, livemode, method),
  CHECK (min_amount IS NULL OR max_amount IS NULL OR min_amount <= max_amount)
);
