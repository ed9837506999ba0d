-- The merchant's own key-value data on payments, captures and refunds (docs/api-conventions.md, Metadata). A constant
-- default: no table rewrite, and the rows a payment's own flow writes need not name the column.
ALTER TABLE captures ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE refunds ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE payments ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'::jsonb;
