-- The expiry sweep's index, reachable by the sweep alone (docs/performance.md, "Primary-key lookups whatever
-- the number of open checkouts").
--
-- `checkouts_open_expiry_idx ON checkouts (expires_at) WHERE status = 'OPEN'` could serve any statement that
-- says `status = 'OPEN'`, and the by-id UPDATEs of the payment flow say it as their guard. When ANALYZE last
-- saw (almost) no open session (the steady state of a busy gateway: sessions are paid soon after they
-- open), the planner estimates that index as empty, so a full scan of it costs less than the primary-key
-- lookup — and every payment then reads every open session.
--
-- The new index is keyed on the deadline of an OPEN session (NULL for any other status) and holds only
-- those rows. A statement can use it only by comparing that very expression (its predicate is implied by
-- nothing else), which the sweep alone does. Its key columns stay out of the HOT path: marking a payment in
-- flight (active_payment_id) still updates the row in place.
DROP INDEX checkouts_open_expiry_idx;
CREATE INDEX checkouts_open_deadline_idx ON checkouts ((CASE WHEN status = 'OPEN' THEN expires_at END))
  WHERE (CASE WHEN status = 'OPEN' THEN expires_at END) IS NOT NULL;
