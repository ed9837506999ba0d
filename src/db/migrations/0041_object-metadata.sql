-- The merchant's own key-value data on webhook endpoints (docs/api-conventions.md, Metadata). A constant
-- default: no table rewrite.
ALTER TABLE webhook_endpoints ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'::jsonb;
