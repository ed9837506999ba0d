-- GET /v1/events lists newest first. Events written by one transaction share created_at (the transaction's
-- start), so the tie is broken by seq — the order they were written in — rather than by their random ids.
CREATE INDEX events_merchant_created_seq_idx ON events (merchant_id, livemode, created_at DESC, seq DESC);
DROP INDEX events_merchant_created_idx;
