-- kassa:no-transaction
-- When the recovery worker may next ask the processor about a PENDING payment that the processor answered
-- `pending` (a reference, no call in flight) and whose notification has not come (docs/processors.md,
-- "Pending payments whose notification never came"). Recovery sets it when it claims the payment (the claim
-- keeps other processes off it until then) and pushes it further when the processor has no read API
-- (Adyen). Nullable without a default: no table rewrite, and the previous release, which does not read it,
-- keeps working. `payments` is hot, so the index is built CONCURRENTLY; each statement can run again.

ALTER TABLE payments ADD COLUMN IF NOT EXISTS status_check_due_at timestamptz;

DROP INDEX CONCURRENTLY IF EXISTS payments_pending_check_idx;
CREATE INDEX CONCURRENTLY payments_pending_check_idx ON payments ((coalesce(status_check_due_at, updated_at)))
  WHERE status = 'PENDING' AND processing_since IS NULL AND connector_reference IS NOT NULL;
