-- Per-credential request counters (rate-limiter-flexible's PostgreSQL store, src/http/plugins/rate-limit.ts),
-- shared by every gateway process. UNLOGGED: a counter lost in a crash only resets one window early, and the
-- table is written on every limited request, so it skips the WAL.
CREATE UNLOGGED TABLE request_rate_limits (
  key    text PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);
