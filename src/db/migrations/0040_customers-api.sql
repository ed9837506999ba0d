-- The customers API (docs/customers.md): the merchant's own data on a customer (docs/api-conventions.md,
-- Metadata), a version that grows with each change, and deletion. A deleted customer's row stays — past
-- orders and payments keep pointing at it — but it no longer holds its e-mail address: the next checkout
-- with that address creates a new customer, so the unique rule covers customers that are not deleted only.
ALTER TABLE customers
  ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN version integer NOT NULL DEFAULT 1,
  ADD COLUMN deleted_at timestamptz;

ALTER TABLE customers DROP CONSTRAINT customers_merchant_id_livemode_email_normalized_key;
CREATE UNIQUE INDEX customers_email_idx ON customers (merchant_id, livemode, email_normalized)
  WHERE deleted_at IS NULL;

-- GET /v1/customers: newest first per merchant and mode.
CREATE INDEX customers_list_idx ON customers (merchant_id, livemode, created_at DESC, id DESC);
