-- When `verify_order` answered OKAY for the attempt. A payment of a checkout with a `verify_order` callback is
-- sent to the processor only once this is set: a retry that resumes the attempt (same Idempotency-Key) while
-- the merchant is still answering waits (409), and one that finds the verifier gone asks again; a refusal
-- therefore always wins. NULL for attempts without verification and for those not (yet) verified.
ALTER TABLE payments ADD COLUMN order_verified_at timestamptz;
