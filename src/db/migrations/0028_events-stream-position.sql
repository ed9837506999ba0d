-- GET /v1/events/stream resumes from an ordered position (docs/events.md, "Event stream"). `seq` alone is not
-- one: a transaction that took seq 10 can commit after one that took seq 11, and a reader that saw 11 would
-- skip 10. Every event also records the id of the transaction that wrote it; the stream reads only events of
-- transactions older than the oldest one still running (pg_snapshot_xmin), a set that never grows behind the
-- reader, in (xact_id, seq) order. Rows written before this migration share its transaction id and keep their
-- seq order.
ALTER TABLE events ADD COLUMN xact_id xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_stream_idx ON events (merchant_id, livemode, xact_id, seq);
