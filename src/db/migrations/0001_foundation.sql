-- Merchants, their credentials, token signing keys and idempotency records.
-- Secrets (client secrets, API keys) are 256-bit random values, stored only as SHA-256 digests.

CREATE TABLE merchants (
  id                  text PRIMARY KEY,
  name                text NOT NULL,
  display_name        text,
  logo_url            text,
  primary_color       text,
  default_locale      text NOT NULL DEFAULT 'EN',
  default_callbacks   jsonb NOT NULL DEFAULT '{}'::jsonb,
  default_capture     text NOT NULL DEFAULT 'automatic' CHECK (default_capture IN ('automatic', 'manual')),
  default_session_lifetime_seconds integer NOT NULL DEFAULT 86400,
  version             integer NOT NULL DEFAULT 1,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- OAuth 2.0 client-credentials clients (RFC 6749 §4.4). One mode each.
CREATE TABLE api_clients (
  id            text PRIMARY KEY,
  merchant_id   text NOT NULL REFERENCES merchants (id),
  livemode      boolean NOT NULL,
  secret_sha256 bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);
CREATE INDEX api_clients_merchant_idx ON api_clients (merchant_id);

-- Secret API keys (`sk_test_…` / `sk_live_…`), looked up by digest.
CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  merchant_id   text NOT NULL REFERENCES merchants (id),
  livemode      boolean NOT NULL,
  key_sha256    bytea NOT NULL UNIQUE,
  key_hint      text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz
);
CREATE INDEX api_keys_merchant_idx ON api_keys (merchant_id);

-- Asymmetric keys that sign access tokens. The private half is encrypted with a key derived from the
-- master key. `next` keys are published (they verify) before any process signs with them; `active` signs
-- new tokens; `retiring` keys still verify until every token they signed expired.
CREATE TABLE signing_keys (
  kid                   text PRIMARY KEY,
  algorithm             text NOT NULL,
  public_jwk            jsonb NOT NULL,
  private_jwk_encrypted bytea,
  status                text NOT NULL CHECK (status IN ('next', 'active', 'retiring', 'retired')),
  created_at            timestamptz NOT NULL DEFAULT now(),
  retire_after          timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active_idx ON signing_keys (status) WHERE status IN ('active', 'next');

-- Idempotency records. A row exists only once the request's effect has committed: it is inserted in the
-- same transaction as the effect. In-flight detection uses a transaction-scoped advisory lock, or, for
-- operations that call a processor outside the transaction, an `in_progress` row with a lease.
CREATE TABLE idempotency_keys (
  merchant_id          text NOT NULL,
  livemode             boolean NOT NULL,
  idempotency_key      text NOT NULL,
  request_method       text NOT NULL,
  request_path         text NOT NULL,
  request_fingerprint  text NOT NULL,
  state                text NOT NULL CHECK (state IN ('in_progress', 'completed')),
  locked_until         timestamptz,
  response_status      integer,
  response_body        text,
  response_headers     jsonb,
  created_at           timestamptz NOT NULL DEFAULT now(),
  completed_at         timestamptz,
  PRIMARY KEY (merchant_id, livemode, idempotency_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Failed-authentication counters (rate-limiter-flexible's PostgreSQL store), shared by every process.
CREATE TABLE auth_failures (
  key    text PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);

-- Facts about this installation (e.g. which merchant is the demo merchant).
CREATE TABLE instance_settings (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
