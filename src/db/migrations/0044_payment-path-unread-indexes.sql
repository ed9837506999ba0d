-- kassa:no-transaction
-- Index entries a card payment wrote that no query of the gateway reads (docs/performance.md, "PostgreSQL's
-- share of a payment"):
--
-- - Every capture (one per card payment with automatic capture) and every refund wrote an entry into an index
--   of its processor reference: the notification that settles a PENDING capture or refund finds its row among
--   the payment's own (`findMoneyOperationForNotification`: payment_id = $1 AND (connector_reference = $2 OR
--   status = 'PENDING')), which captures_payment_idx and refunds_payment_idx serve, and nothing looks a capture
--   or refund up by its processor reference alone. The sandbox's references are never null, so the partial
--   index held an entry for every capture.
-- - The sandbox acquirer's ledger wrote two operations per payment (authorize, capture), each with an entry in
--   an index of Kassa's payment id. Only the ledger's inspection (what the tests read: `listOperations`,
--   `countOperations`) filters on that column; the acquirer itself finds operations by idempotency key and by
--   its own payment reference (sandbox_acquirer_operations_payment_idx), and its payments by Kassa's id through
--   sandbox_acquirer_payments_payment_idx.
--
-- Each statement can run again after a failure.

DROP INDEX CONCURRENTLY IF EXISTS captures_connector_reference_idx;

DROP INDEX CONCURRENTLY IF EXISTS refunds_connector_reference_idx;

DROP INDEX CONCURRENTLY IF EXISTS sandbox_acquirer_operations_payment_id_idx;
