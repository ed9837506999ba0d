-- Every event names its actor (docs/events.md, "Actor"): the API credential whose request caused it
-- (`credential`, `key_…` / `cli_…`), the shopper's checkout or payment link (`shopper`), a dashboard user
-- (`user`), or Kassa's own background work (`system`, the worker's name). Events written before this column
-- existed have none (NULL, shown as `actor: null`). Adding nullable columns rewrites nothing.
ALTER TABLE events
  ADD COLUMN actor_type text CHECK (actor_type IN ('credential', 'user', 'system', 'shopper')),
  ADD COLUMN actor_id   text,
  ADD CONSTRAINT events_actor_complete CHECK ((actor_type IS NULL) = (actor_id IS NULL));
