-- kassa:no-transaction
-- Every event (eight per card payment) writes one entry into each index of `events`, so the table carries only
-- the indexes its queries read (docs/performance.md, "Events: fewer index entries per event"):
--
-- - `events_seq_key`, the unique index behind `seq bigserial UNIQUE`, served no query: nothing looks an event
--   up by seq alone (listings read seq from events_merchant_created_seq_idx and events_stream_idx, the outbox
--   worker from events_pending_fanout_idx), and the sequence already makes the values unique. It was also a
--   spot every concurrent insert wrote to, its right-most page.
-- - The dashboard's "events about this object" list reads one object's few events: an index on
--   (merchant_id, livemode, object_id) finds them and sorts them, as the order timeline does with
--   events_order_idx. Its entries are about half as wide as those of events_object_created_idx, and the
--   events of one object share one entry (B-tree deduplication), which the old key (with created_at, seq)
--   never allowed.
--
-- `events` is hot, so the new index is built CONCURRENTLY before the old one is dropped (the list always has
-- an index); each statement can run again after a failure (the DROP removes an INVALID index an interrupted
-- build left).

ALTER TABLE events DROP CONSTRAINT IF EXISTS events_seq_key;

DROP INDEX CONCURRENTLY IF EXISTS events_object_idx;
CREATE INDEX CONCURRENTLY events_object_idx ON events (merchant_id, livemode, object_id) WHERE object_id IS NOT NULL;

DROP INDEX CONCURRENTLY IF EXISTS events_object_created_idx;
