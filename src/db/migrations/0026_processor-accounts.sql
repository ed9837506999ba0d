-- Processor accounts: a merchant's own Stripe or Adyen account (or a sandbox one, test mode only) that Kassa
-- routes payments to (docs/processors.md). `credentials_public` holds the non-secret credential fields in clear
-- (Adyen's merchant account); `credentials_sealed` holds every credential field as JSON, sealed with a key
-- derived from the master key; `secret_hints` the last 4 characters of each secret field, for answers.
-- A deleted account (`deleted_at`) takes no new payments; payments it already took keep reaching it.
CREATE TABLE processor_accounts (
  id                 text PRIMARY KEY,
  merchant_id        text NOT NULL REFERENCES merchants (id),
  livemode           boolean NOT NULL,
  processor          text NOT NULL CHECK (processor IN ('sandbox', 'stripe', 'adyen')),
  status             text NOT NULL CHECK (status IN ('ENABLED', 'DISABLED')),
  payment_methods    text[] NOT NULL,
  currencies         text[],
  priority           integer NOT NULL DEFAULT 0,
  api_base_url       text,
  credentials_public jsonb NOT NULL DEFAULT '{}'::jsonb,
  secret_hints       jsonb NOT NULL DEFAULT '{}'::jsonb,
  credentials_sealed bytea NOT NULL,
  webhook_secret_set boolean NOT NULL DEFAULT false,
  version            integer NOT NULL DEFAULT 1,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  deleted_at         timestamptz
);
CREATE INDEX processor_accounts_list_idx ON processor_accounts (merchant_id, livemode, created_at DESC, id DESC)
  WHERE deleted_at IS NULL;

-- Each notification a processor sent to /v1/processor-webhooks/{account}, stored before it is acknowledged
-- and applied: the processor's event id is unique per account, so a redelivery is recognised.
CREATE TABLE processor_notifications (
  processor_account_id text NOT NULL REFERENCES processor_accounts (id),
  event_id             text NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('authorization', 'capture', 'void', 'refund')),
  payment_id           text,
  connector_reference  text NOT NULL,
  operation_reference  text,
  status               text NOT NULL,
  body                 jsonb NOT NULL,
  received_at          timestamptz NOT NULL DEFAULT now(),
  applied_at           timestamptz,
  PRIMARY KEY (processor_account_id, event_id)
);
CREATE INDEX processor_notifications_unapplied_idx ON processor_notifications (received_at)
  WHERE applied_at IS NULL;

-- A capture or refund the processor accepted for later (Adyen's modifications) keeps the processor's id of it
-- while PENDING, so the notification that settles it finds its row.
CREATE INDEX captures_connector_reference_idx ON captures (connector_reference) WHERE connector_reference IS NOT NULL;
CREATE INDEX refunds_connector_reference_idx ON refunds (connector_reference) WHERE connector_reference IS NOT NULL;
-- Payments are found by the processor's id of them when its notification does not name Kassa's payment id.
CREATE INDEX payments_connector_reference_idx ON payments (connector_id, connector_reference)
  WHERE connector_reference IS NOT NULL;
