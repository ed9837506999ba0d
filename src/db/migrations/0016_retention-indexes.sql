-- kassa:no-transaction
-- The retention worker (src/workers/retention.worker.ts) finds what is due through these partial indexes, so
-- each of its small batches reads only due rows. Both tables are hot, so the indexes are built CONCURRENTLY
-- (no lock that blocks writes); each statement can run again after a failure (an interrupted concurrent
-- build leaves an INVALID index behind, which the DROP removes).

-- Checkouts that expired with no payment attempt: the only checkouts ever deleted (money is kept forever).
DROP INDEX CONCURRENTLY IF EXISTS checkouts_expired_unpaid_idx;
CREATE INDEX CONCURRENTLY checkouts_expired_unpaid_idx ON checkouts (expired_at)
  WHERE status = 'EXPIRED' AND NOT payment_started;

-- Webhook attempts whose response body is still stored.
DROP INDEX CONCURRENTLY IF EXISTS webhook_delivery_attempts_body_idx;
CREATE INDEX CONCURRENTLY webhook_delivery_attempts_body_idx ON webhook_delivery_attempts (attempted_at)
  WHERE response_excerpt IS NOT NULL;

-- Finished deliveries by age, for deleting delivery history past its retention.
DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_finished_idx;
CREATE INDEX CONCURRENTLY webhook_deliveries_finished_idx ON webhook_deliveries (created_at)
  WHERE status <> 'pending';
