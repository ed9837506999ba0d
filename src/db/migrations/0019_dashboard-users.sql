-- The merchant dashboard at /dashboard (docs/dashboard.md): the people who sign in and their sessions.
--
-- A person's e-mail is unique across the whole gateway (compared case-insensitively): signing in names an
-- e-mail and a password, never a merchant, so one address must lead to exactly one account. Someone who works
-- for two shops has two addresses (or, later, invitations to a second merchant).
CREATE TABLE dashboard_users (
  id                 text PRIMARY KEY,
  merchant_id        text NOT NULL REFERENCES merchants (id),
  email              text NOT NULL,
  email_normalized   text NOT NULL UNIQUE,
  role               text NOT NULL CHECK (role IN ('owner', 'developer', 'support', 'viewer')),
  -- argon2id, PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
  password_hash      text NOT NULL,
  -- Consecutive failed sign-ins; 10 lock the account until locked_until (PCI DSS 8.3.4). Reset on success.
  failed_count       integer NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
  locked_until       timestamptz,
  -- Two-factor authentication (TOTP, RFC 6238): the secret sealed with the master key, set once enrolled.
  totp_secret_sealed text,
  totp_enabled_at    timestamptz,
  -- The last time step whose code was accepted: a code is accepted once.
  totp_last_step     bigint,
  password_changed_at timestamptz NOT NULL,
  last_sign_in_at    timestamptz,
  disabled_at        timestamptz,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);
CREATE INDEX dashboard_users_merchant_idx ON dashboard_users (merchant_id, created_at);

-- Signed-in sessions. The cookie carries a random secret; only its SHA-256 is stored, so a database read
-- does not hand out sessions. Revocation is a timestamp, effective on the next request.
CREATE TABLE dashboard_sessions (
  id_hash        bytea PRIMARY KEY,
  user_id        text NOT NULL REFERENCES dashboard_users (id) ON DELETE CASCADE,
  livemode       boolean NOT NULL DEFAULT false,
  client_address text,
  user_agent     text,
  created_at     timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL,
  revoked_at     timestamptz
);
CREATE INDEX dashboard_sessions_user_idx ON dashboard_sessions (user_id) WHERE revoked_at IS NULL;

-- Failed sign-ins per client address in a sliding window (the per-address limit beside the per-account lock).
CREATE TABLE dashboard_sign_in_failures (
  client_address text NOT NULL,
  failed_at      timestamptz NOT NULL
);
CREATE INDEX dashboard_sign_in_failures_address_idx ON dashboard_sign_in_failures (client_address, failed_at);
