-- kassa:no-transaction
-- The dashboard's webhook endpoint page lists that endpoint's deliveries, newest first, and its events log
-- filters by the object an event is about (docs/dashboard.md). Without these indexes both would scan every
-- delivery or event of the merchant. Both tables are hot, so the indexes are built CONCURRENTLY; each
-- statement can run again after a failure (the DROP removes an INVALID index an interrupted build left).

DROP INDEX CONCURRENTLY IF EXISTS webhook_deliveries_endpoint_created_idx;
CREATE INDEX CONCURRENTLY webhook_deliveries_endpoint_created_idx
  ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

DROP INDEX CONCURRENTLY IF EXISTS events_object_created_idx;
CREATE INDEX CONCURRENTLY events_object_created_idx
  ON events (merchant_id, livemode, object_id, created_at DESC, seq DESC) WHERE object_id IS NOT NULL;
