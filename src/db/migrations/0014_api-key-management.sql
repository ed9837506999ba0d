-- Key management for existing merchants (docs/security.md "Scopes", "API keys and OAuth clients").
--
-- api_keys: restricted keys (`rk_test_…` / `rk_live_…`) hold the scopes chosen when they were made (`scopes`);
-- secret keys (`sk_…`) hold every scope (`scopes` NULL). A rolled key stays valid until `expires_at`. Only the
-- SHA-256 digest of a key is stored (as before), and `key_hint` (prefix … last 4) to recognise it.
ALTER TABLE api_keys
  ADD COLUMN type       text NOT NULL DEFAULT 'secret' CHECK (type IN ('secret', 'restricted')),
  ADD COLUMN scopes     text[],
  ADD COLUMN name       text,
  ADD COLUMN metadata   jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN expires_at timestamptz,
  ADD COLUMN version    integer NOT NULL DEFAULT 1,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
  ADD CONSTRAINT api_keys_scopes_by_type CHECK ((type = 'secret') = (scopes IS NULL));
CREATE INDEX api_keys_merchant_list_idx ON api_keys (merchant_id, livemode, created_at DESC, id DESC);

-- api_clients: the scopes a client may ask for (NULL: every scope), and a rolled secret's predecessor, valid
-- until `previous_secret_expires_at`.
ALTER TABLE api_clients
  ADD COLUMN scopes                     text[],
  ADD COLUMN name                       text,
  ADD COLUMN metadata                   jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN secret_hint                text,
  ADD COLUMN previous_secret_sha256     bytea,
  ADD COLUMN previous_secret_expires_at timestamptz,
  ADD COLUMN version                    integer NOT NULL DEFAULT 1,
  ADD COLUMN updated_at                 timestamptz NOT NULL DEFAULT now();
CREATE INDEX api_clients_merchant_list_idx ON api_clients (merchant_id, livemode, created_at DESC, id DESC);

-- The return-URL signing secret can be rolled: until `previous_expires_at` redirects carry a signature made
-- with the previous secret too (docs/redirects.md).
ALTER TABLE merchant_signing_secrets
  ADD COLUMN previous_secret_encrypted bytea,
  ADD COLUMN previous_expires_at       timestamptz;
