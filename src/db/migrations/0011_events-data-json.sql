-- Event payloads are written once and read back only as text (the webhook body is the stored text, signed as
-- is) or parsed whole (GET /v1/events): nothing queries inside them but the ping's endpoint id. `json` keeps
-- the text as written, so neither the write (parse into jsonb) nor every delivery (print it back) converts it,
-- and the delivered body keeps the presenter's key order. (A one-time rewrite of the table.)
ALTER TABLE events ALTER COLUMN data TYPE json USING data::json;

-- A delivery row is updated right after it is written (its lease, then its result). With room left on its
-- page the first update is a HOT update: no new entry in any of its indexes.
ALTER TABLE webhook_deliveries SET (fillfactor = 70);
