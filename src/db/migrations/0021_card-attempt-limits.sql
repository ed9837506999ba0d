-- Card-testing limits (src/modules/payments/attempt-limits.ts): declined payment attempts counted per client
-- address and per card fingerprint (a keyed hash, never the number), shared by every gateway process. Same
-- shape as request_rate_limits: a fixed window per key, `expire` in epoch milliseconds; `notified` is set by
-- the first refusal of a window (the merchant's event is sent once). UNLOGGED: a crash resets the counters one
-- window early, and the table skips the WAL. (Declines per checkout are counted from its payments.)
CREATE UNLOGGED TABLE card_attempt_limits (
  key      text PRIMARY KEY,
  points   integer NOT NULL DEFAULT 0,
  expire   bigint NOT NULL,
  notified boolean NOT NULL DEFAULT false
);

-- Why a checkout was canceled, when Kassa canceled it itself: `too_many_declines`. NULL otherwise.
ALTER TABLE checkouts ADD COLUMN cancellation_reason text;
