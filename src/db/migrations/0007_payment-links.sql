-- Payment links (SPEC §8, seed 002): a shareable URL (and QR code) for one order. Every visit opens a checkout
-- session of its own, copied from the link; `checkouts.payment_link_id` ties the sessions to their link.

CREATE TABLE payment_links (
  id                        text PRIMARY KEY,
  merchant_id               text NOT NULL REFERENCES merchants (id),
  livemode                  boolean NOT NULL,
  status                    text NOT NULL CHECK (status IN ('ACTIVE', 'COMPLETED', 'EXPIRED', 'DEACTIVATED')),
  -- The order every session of the link starts from, as the merchant sent it (validated, totals checked).
  order_input               jsonb NOT NULL,
  completed_redirect_url    text NOT NULL,
  canceled_redirect_url     text NOT NULL,
  -- The merchant's own landing page (loads the session with the browser SDK's initFromQR); NULL = Kassa's page.
  landing_url               text,
  -- NULL = the merchant's default at the time a session is opened.
  locale                    text,
  capture                   text CHECK (capture IN ('automatic', 'manual')),
  payment_methods           text[],
  metadata                  jsonb NOT NULL DEFAULT '{}'::jsonb,
  usage                     text NOT NULL CHECK (usage IN ('single', 'reusable')),
  max_completions           integer NOT NULL CHECK (max_completions >= 1),
  -- Paid sessions. May exceed max_completions only when a payment already in flight completes after the
  -- link closed; new sessions are never opened beyond what is left.
  completions               integer NOT NULL DEFAULT 0 CHECK (completions >= 0),
  activation_window_seconds integer NOT NULL CHECK (activation_window_seconds >= 1),
  expires_at                timestamptz NOT NULL,
  -- The first visit starts the activation window: completable_until = least(expires_at, first visit + window).
  first_opened_at           timestamptz,
  completable_until         timestamptz,
  completed_at              timestamptz,
  expired_at                timestamptz,
  deactivated_at            timestamptz,
  created_at                timestamptz NOT NULL,
  updated_at                timestamptz NOT NULL,
  version                   integer NOT NULL DEFAULT 1,
  CHECK (usage = 'reusable' OR max_completions = 1),
  CHECK ((first_opened_at IS NULL) = (completable_until IS NULL))
);
CREATE INDEX payment_links_merchant_created_idx ON payment_links (merchant_id, livemode, created_at DESC, id DESC);
-- The expiry sweep scans only active links, earliest deadline first.
CREATE INDEX payment_links_active_deadline_idx ON payment_links ((coalesce(completable_until, expires_at)))
  WHERE status = 'ACTIVE';

ALTER TABLE checkouts ADD COLUMN payment_link_id text REFERENCES payment_links (id);
CREATE INDEX checkouts_payment_link_idx ON checkouts (payment_link_id, created_at DESC) WHERE payment_link_id IS NOT NULL;
