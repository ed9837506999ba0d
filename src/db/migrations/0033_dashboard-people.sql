-- The dashboard's people (docs/dashboard.md, docs/security.md "Dashboard two-factor authentication"):
-- recovery codes, the half-signed-in step between password and second factor, step-up, invitations.

-- Single-use recovery codes of a person's two-factor authentication: only their SHA-256 is kept (the codes
-- carry 80 random bits, so a fast hash does not make a stolen table guessable). Replaced as a set.
CREATE TABLE dashboard_recovery_codes (
  user_id    text NOT NULL REFERENCES dashboard_users (id) ON DELETE CASCADE,
  code_hash  bytea NOT NULL,
  created_at timestamptz NOT NULL,
  used_at    timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- A password accepted, the second step still to come: either the code of an enrolled person (`code`) or the
-- enrolment a person who must have two-factor has not done yet (`enrol`). The browser holds a random
-- secret in the pre-session cookie; only its SHA-256 is kept. Short-lived, with its own attempts count.
CREATE TABLE dashboard_pending_sign_ins (
  id_hash        bytea PRIMARY KEY,
  user_id        text NOT NULL REFERENCES dashboard_users (id) ON DELETE CASCADE,
  step           text NOT NULL CHECK (step IN ('code', 'enrol')),
  attempts       integer NOT NULL DEFAULT 0,
  client_address text,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL
);
CREATE INDEX dashboard_pending_sign_ins_user_idx ON dashboard_pending_sign_ins (user_id);

-- Step-up: when the person last re-entered a code in this session (live credentials, live refunds).
ALTER TABLE dashboard_sessions ADD COLUMN stepped_up_at timestamptz;

-- Invitations by link: the owner copies a one-time link (no e-mail server); only the token's SHA-256 is kept.
CREATE TABLE dashboard_invitations (
  id               text PRIMARY KEY,
  merchant_id      text NOT NULL REFERENCES merchants (id),
  email            text NOT NULL,
  email_normalized text NOT NULL,
  role             text NOT NULL CHECK (role IN ('owner', 'developer', 'support', 'viewer')),
  token_hash       bytea NOT NULL UNIQUE,
  -- The key of the form that made it: the same form sent twice makes one invitation.
  form_key         text NOT NULL,
  created_by       text NOT NULL REFERENCES dashboard_users (id),
  created_at       timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  accepted_at      timestamptz,
  accepted_user_id text REFERENCES dashboard_users (id),
  revoked_at       timestamptz
);
CREATE INDEX dashboard_invitations_merchant_idx ON dashboard_invitations (merchant_id, created_at);
CREATE UNIQUE INDEX dashboard_invitations_form_key_idx ON dashboard_invitations (merchant_id, form_key);
