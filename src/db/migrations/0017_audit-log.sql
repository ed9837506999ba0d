-- The audit trail (docs/security.md, "Audit trail"): who did what to which object, from where, and when.
-- Written in the same transaction as the change it records. The API (credential changes, signing-secret and
-- token-signing-key rotation) and the dashboard (sign-ins, failed sign-ins, lock-outs) write here; rows are
-- never updated. `merchant_id` is NULL for what concerns no one merchant (the token-signing key).
CREATE TABLE audit_log (
  id             text PRIMARY KEY,
  merchant_id    text REFERENCES merchants (id),
  actor_type     text NOT NULL CHECK (actor_type IN ('credential', 'user', 'system')),
  actor_id       text NOT NULL,
  actor_label    text,
  action         text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  object_type    text,
  object_id      text,
  client_address text,
  details        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- A merchant's entries, newest first (GET /v1/audit-log, `kassa audit-log list`).
CREATE INDEX audit_log_merchant_list_idx ON audit_log (merchant_id, created_at DESC, id DESC);
-- Entries that concern no one merchant (token-signing key rotation), newest first.
CREATE INDEX audit_log_global_list_idx ON audit_log (created_at DESC, id DESC) WHERE merchant_id IS NULL;
