-- The merchant's own key-value data on a processor account (docs/api-conventions.md, Metadata).
ALTER TABLE processor_accounts ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'::jsonb;
