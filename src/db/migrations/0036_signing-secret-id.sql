-- A signing secret gets an id (docs/api-conventions.md#2-objects: every object has `id`), so a merchant can
-- tell a rolled secret from the one it replaced. The application writes `ss_` + 128 random bits on insert and
-- on every roll; the default fills rows that exist now, and rows a previous release inserts during a rolling
-- upgrade (it does not know the column), with `ss_` + the 32 hex digits of a random UUID.
ALTER TABLE merchant_signing_secrets
  ADD COLUMN id text NOT NULL DEFAULT ('ss_' || replace(gen_random_uuid()::text, '-', ''));
