-- One full payment of `npm run bench` as the gateway sends it to PostgreSQL (captured with bench/floor/capture.ts):
-- create the checkout, start the payment, the sandbox acquirer's ledger, settle. Statement texts as the gateway's;
-- ids fresh per run (prefix || md5); payloads (:ev_*, :idem_*, :sbx_*) are the seed payment's own, passed by
-- bench/floor/run.ts with -D. Round trips as pipelines (load, then apply with COMMIT), as the gateway groups them.
\set n random(1, 9000000000000000000)
\set k1 random(-2147483648, 2147483647)
\set k2 random(-2147483648, 2147483647)
\set k3 random(-2147483648, 2147483647)
\set k4 random(-2147483648, 2147483647)

-- POST /v1/checkouts
\startpipeline
BEGIN;
SELECT pg_try_advisory_xact_lock(:k1, :k2) AS locked, now() AS now,
       k.request_fingerprint, k.state, k.locked_until, k.response_status, k.response_body
     FROM (VALUES (1)) AS one
     LEFT JOIN idempotency_keys k ON k.merchant_id = :mer AND k.livemode = false AND k.idempotency_key = 'floor-c-' || :n;
WITH known AS (
       SELECT * FROM customers
        WHERE merchant_id = :mer AND livemode = false AND email_normalized = 'john.doe@example.com' AND deleted_at IS NULL
     ), created AS (
       INSERT INTO customers (id, merchant_id, livemode, email, email_normalized, first_name, last_name, phone,
         created_at, updated_at)
       SELECT 'cus_' || md5(:n::text), :mer, false, 'john.doe@example.com', 'john.doe@example.com', 'John', 'Doe', NULL, now(), now() WHERE NOT EXISTS (SELECT 1 FROM known)
       ON CONFLICT (merchant_id, livemode, email_normalized) WHERE deleted_at IS NULL DO NOTHING
       RETURNING *
     )
     SELECT * FROM known UNION ALL SELECT * FROM created;
\endpipeline
\startpipeline
WITH checkout AS (
       INSERT INTO checkouts (id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url,
         callbacks, capture, allow_save_payment_methods, locale, payment_methods, metadata, client_token_sha256,
         expires_at, created_at, updated_at, payment_link_id, locale_is_default)
       VALUES ('chk_' || md5(:n::text), :mer, false, 'OPEN', 'https://example.com/complete', 'https://example.com/cancel', '{}', 'automatic', false, 'ES_LATAM', NULL, '{}', decode(md5(:n::text) || md5(:n::text || 't'), 'hex'), now() + interval '1 day', now(), now(), NULL, false)
     ), new_order AS (INSERT INTO orders (merchant_order_id, currency, country_code, subtotal_amount, discounts, taxes,
       shipping_amount, total_amount, products, customer_id, metadata, customer_verified,
       id, merchant_id, livemode, checkout_id, status, created_at, updated_at)
     VALUES ('1366656595193', 'MXN', 'MX', 1000, :discounts, '[]', 0, 990, :products, :cus, '{}', false, 'ord_' || md5(:n::text), :mer, false, 'chk_' || md5(:n::text), 'CREATED', now(), now()))
     SELECT 1;
INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
           request_fingerprint, state, response_status, response_body, completed_at)
         VALUES (:mer, false, 'floor-c-' || :n, 'POST', '/v1/checkouts', :fp, 'completed', 201, :idem_checkout, now());
WITH emitted AS (
       INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, order_id, checkout_id, payment_id, data, actor_type, actor_id, traceparent, target_endpoint_id, fanout_state)
       VALUES ('evt_' || md5(:n::text || 'e1'), :mer, false, 'checkout.created', 'chk_' || md5(:n::text), 1, 'ord_' || md5(:n::text), 'chk_' || md5(:n::text), NULL, :ev_checkout_created::json, 'credential', :cli, :tp, NULL, 'done'),
              ('evt_' || md5(:n::text || 'e2'), :mer, false, 'order.created', 'ord_' || md5(:n::text), 1, 'ord_' || md5(:n::text), 'chk_' || md5(:n::text), NULL, :ev_order_created::json, 'credential', :cli, :tp, NULL, 'done')
       RETURNING id, merchant_id, livemode, type, data, created_at, target_endpoint_id
     ), fanned_out AS (
       INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin)
    SELECT 'del_' || md5(gen_random_uuid()::text || gen_random_uuid()::text), ev.id, ep.id, ev.merchant_id, ev.livemode, 'event'
      FROM emitted ev JOIN webhook_endpoints ep ON ep.merchant_id = ev.merchant_id AND ep.livemode = ev.livemode
  AND ep.deleted_at IS NULL AND ep.status = 'enabled'
  AND CASE WHEN ev.target_endpoint_id IS NOT NULL THEN ep.id = ev.target_endpoint_id
           WHEN ev.type = 'ping' THEN ep.id = ev.data->>'webhook_endpoint_id'
           ELSE ('*' = ANY (ep.enabled_events) OR ev.type = ANY (ep.enabled_events)) END AND ep.created_at <= ev.created_at
     ) SELECT 1;
COMMIT;
\endpipeline

-- POST /v1/payments: the payment start
\startpipeline
BEGIN;
SELECT pg_try_advisory_xact_lock(:k3, :k4) AS locked, now() AS now,
       k.request_fingerprint, k.state, k.locked_until, k.response_status, k.response_body
     FROM (VALUES (1)) AS one
     LEFT JOIN idempotency_keys k ON k.merchant_id = :mer AND k.livemode = false AND k.idempotency_key = 'floor-p-' || :n;
INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
         request_fingerprint, state, locked_until)
       VALUES (:mer, false, 'floor-p-' || :n, 'POST', '/v1/payments', :fp, 'in_progress', now() + make_interval(secs => 141)) ON CONFLICT (merchant_id, livemode, idempotency_key) DO NOTHING;
SELECT id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url, callbacks, capture,
  allow_save_payment_methods, locale, locale_is_default, payment_methods, metadata,
  (payment_started OR active_payment_id IS NOT NULL) AS payment_started, active_payment_id,
  payment_link_id, expires_at, completed_at, canceled_at, expired_at, created_at, updated_at, version,
  cancellation_reason FROM checkouts WHERE id = 'chk_' || md5(:n::text) AND (merchant_id, livemode) IS NOT DISTINCT FROM (:mer, false) FOR UPDATE;
SELECT orders.*, checkouts.expires_at AS checkout_expires_at, checkouts.locale AS checkout_locale,
         CASE WHEN customers.id IS NULL THEN NULL ELSE to_jsonb(customers) END AS customer
    FROM orders
    JOIN checkouts ON checkouts.id = orders.checkout_id
    LEFT JOIN customers ON customers.id = orders.customer_id WHERE orders.checkout_id = 'chk_' || md5(:n::text)
      AND (orders.merchant_id, orders.livemode) IS NOT DISTINCT FROM (:mer, false);
SELECT id, merchant_id, livemode, processor, status, payment_methods, currencies, priority,
  multiple_captures, api_base_url, credentials_public, secret_hints, credentials_sealed, webhook_secret_set, metadata,
  version, created_at, updated_at, deleted_at FROM processor_accounts
      WHERE merchant_id = :mer AND livemode = false AND deleted_at IS NULL AND status = 'ENABLED'
      ORDER BY priority, created_at, id;
\endpipeline
\startpipeline
UPDATE checkouts SET active_payment_id = 'pay_' || md5(:n::text), payment_started = (payment_started OR active_payment_id IS NOT NULL),
       updated_at = now(), version = version + 1
     WHERE id = 'chk_' || md5(:n::text) AND (merchant_id, livemode) IS NOT DISTINCT FROM (:mer, false) AND status = 'OPEN' RETURNING id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url, callbacks, capture,
  allow_save_payment_methods, locale, locale_is_default, payment_methods, metadata,
  (payment_started OR active_payment_id IS NOT NULL) AS payment_started, active_payment_id,
  payment_link_id, expires_at, completed_at, canceled_at, expired_at, created_at, updated_at, version,
  cancellation_reason;
INSERT INTO payments (id, merchant_id, livemode, checkout_id, order_id, status, processing_since, channel,
       method, amount, currency, capture_mode, connector_id, card_brand, card_last4, card_exp_month,
       card_exp_year, card_fingerprint, saved_payment_method_id, metadata, created_at, updated_at)
     SELECT 'pay_' || md5(:n::text), :mer, false, 'chk_' || md5(:n::text), 'ord_' || md5(:n::text), 'PENDING', now(), 'api', 'card', 990, 'MXN', 'automatic',
       'sandbox', 'visa', '4242', 12, 2029, :fp, NULL, '{}'::jsonb, now(), now()
      WHERE EXISTS (SELECT 1 FROM checkouts WHERE id = 'chk_' || md5(:n::text) AND active_payment_id = 'pay_' || md5(:n::text))
     RETURNING *;
COMMIT;
\endpipeline

-- the sandbox acquirer (the bank's own record, committed on its own; -D ledger=0 leaves it out)
\if :ledger
WITH operation AS (
       INSERT INTO sandbox_acquirer_operations
         (id, idempotency_key, request_hash, kind, payment_reference, payment_id, amount, currency, outcome,
          failure_code, result, created_at)
       VALUES ('sbxop_' || md5(:n::text || 'a'), 'pay_' || md5(:n::text), :fp, 'authorize', 'sbx_' || md5(:n::text), 'pay_' || md5(:n::text), 990, 'MXN', 'authorized', NULL, :sbx_authorize::jsonb, now())
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id), payment AS (
       INSERT INTO sandbox_acquirer_payments
         (reference, payment_id, method_type, amount, currency, status, decline_code, action_kind, return_url,
          card_brand, card_last4, finalise_at, created_at, updated_at)
       SELECT 'sbx_' || md5(:n::text), 'pay_' || md5(:n::text), 'card', 990, 'MXN', 'authorized', NULL, NULL, :return_url,
              'visa', '4242', NULL, now(), now()
         FROM operation), capture AS (
       INSERT INTO sandbox_acquirer_operations
         (id, idempotency_key, request_hash, kind, payment_reference, payment_id, amount, currency, outcome,
          failure_code, result, created_at)
       SELECT 'sbxop_' || md5(:n::text || 'c'), 'cap_' || md5(:n::text), :fp, 'capture', 'sbx_' || md5(:n::text), 'pay_' || md5(:n::text), 990, 'MXN', 'succeeded', NULL, :sbx_capture::jsonb, now() FROM operation)
     SELECT EXISTS (SELECT 1 FROM operation) AS inserted;
\endif

-- POST /v1/payments: settle
\startpipeline
BEGIN;
SELECT id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url, callbacks, capture,
  allow_save_payment_methods, locale, locale_is_default, payment_methods, metadata,
  (payment_started OR active_payment_id IS NOT NULL) AS payment_started, active_payment_id,
  payment_link_id, expires_at, completed_at, canceled_at, expired_at, created_at, updated_at, version,
  cancellation_reason FROM checkouts WHERE id = (SELECT checkout_id FROM payments WHERE id = 'pay_' || md5(:n::text)) FOR UPDATE;
SELECT * FROM payments WHERE id = 'pay_' || md5(:n::text) FOR UPDATE;
SELECT orders.*, checkouts.expires_at AS checkout_expires_at, checkouts.locale AS checkout_locale,
         CASE WHEN customers.id IS NULL THEN NULL ELSE to_jsonb(customers) END AS customer
    FROM orders
    JOIN checkouts ON checkouts.id = orders.checkout_id
    LEFT JOIN customers ON customers.id = orders.customer_id WHERE orders.id = (SELECT order_id FROM payments WHERE id = 'pay_' || md5(:n::text)) FOR UPDATE OF orders;
\endpipeline
\startpipeline
UPDATE payments SET status = 'SUCCEEDED', processing_since = NULL, authorized_amount = 990, captured_amount = 990, connector_reference = 'sbx_' || md5(:n::text), updated_at = now(), version = 3
     WHERE id = 'pay_' || md5(:n::text) AND version = 1;
UPDATE checkouts SET status = 'COMPLETED', completed_at = now(), updated_at = now(), version = version + 1,
       payment_started = (payment_started OR active_payment_id IS NOT NULL), active_payment_id = NULL, cancellation_reason = NULL
     WHERE id = 'chk_' || md5(:n::text) AND (merchant_id, livemode) IS NOT DISTINCT FROM (:mer, false) AND status = 'OPEN' RETURNING id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url, callbacks, capture,
  allow_save_payment_methods, locale, locale_is_default, payment_methods, metadata,
  (payment_started OR active_payment_id IS NOT NULL) AS payment_started, active_payment_id,
  payment_link_id, expires_at, completed_at, canceled_at, expired_at, created_at, updated_at, version,
  cancellation_reason;
INSERT INTO captures (id, payment_id, merchant_id, livemode, amount, status, connector_reference,
   metadata, created_at, updated_at)
 VALUES ('cap_' || md5(:n::text), 'pay_' || md5(:n::text), :mer, false, 990, 'SUCCEEDED', 'sbxop_' || md5(:n::text || 'c'), '{}', now(), now()) RETURNING *;
UPDATE orders SET status = 'PAID', authorized_amount = 990, captured_amount = 990, refunded_amount = 0,
       updated_at = now(), version = 3
     WHERE id = 'ord_' || md5(:n::text) AND version = 1;
UPDATE idempotency_keys SET state = 'completed', locked_until = NULL, response_status = 201, response_body = :idem_payment,
       completed_at = now()
     WHERE merchant_id = :mer AND livemode = false AND idempotency_key = 'floor-p-' || :n;
WITH emitted AS (
       INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, order_id, checkout_id, payment_id, data, actor_type, actor_id, traceparent, target_endpoint_id, fanout_state)
       VALUES ('evt_' || md5(:n::text || 'e3'), :mer, false, 'order.updated', 'ord_' || md5(:n::text), 2, 'ord_' || md5(:n::text), 'chk_' || md5(:n::text), NULL, :ev_order_updated_2::json, 'credential', :cli, :tp, NULL, 'done'),
              ('evt_' || md5(:n::text || 'e4'), :mer, false, 'checkout.completed', 'chk_' || md5(:n::text), 3, 'ord_' || md5(:n::text), 'chk_' || md5(:n::text), NULL, :ev_checkout_completed::json, 'credential', :cli, :tp, NULL, 'done'),
              ('evt_' || md5(:n::text || 'e5'), :mer, false, 'payment.authorized', 'pay_' || md5(:n::text), 2, 'ord_' || md5(:n::text), 'chk_' || md5(:n::text), 'pay_' || md5(:n::text), :ev_payment_authorized::json, 'credential', :cli, :tp, NULL, 'done'),
              ('evt_' || md5(:n::text || 'e6'), :mer, false, 'order.updated', 'ord_' || md5(:n::text), 3, 'ord_' || md5(:n::text), 'chk_' || md5(:n::text), NULL, :ev_order_updated_3::json, 'credential', :cli, :tp, NULL, 'done'),
              ('evt_' || md5(:n::text || 'e7'), :mer, false, 'payment.captured', 'pay_' || md5(:n::text), 3, 'ord_' || md5(:n::text), 'chk_' || md5(:n::text), 'pay_' || md5(:n::text), :ev_payment_captured::json, 'credential', :cli, :tp, NULL, 'done'),
              ('evt_' || md5(:n::text || 'e8'), :mer, false, 'payment.succeeded', 'pay_' || md5(:n::text), 3, 'ord_' || md5(:n::text), 'chk_' || md5(:n::text), 'pay_' || md5(:n::text), :ev_payment_succeeded::json, 'credential', :cli, :tp, NULL, 'done')
       RETURNING id, merchant_id, livemode, type, data, created_at, target_endpoint_id
     ), fanned_out AS (
       INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin)
    SELECT 'del_' || md5(gen_random_uuid()::text || gen_random_uuid()::text), ev.id, ep.id, ev.merchant_id, ev.livemode, 'event'
      FROM emitted ev JOIN webhook_endpoints ep ON ep.merchant_id = ev.merchant_id AND ep.livemode = ev.livemode
  AND ep.deleted_at IS NULL AND ep.status = 'enabled'
  AND CASE WHEN ev.target_endpoint_id IS NOT NULL THEN ep.id = ev.target_endpoint_id
           WHEN ev.type = 'ping' THEN ep.id = ev.data->>'webhook_endpoint_id'
           ELSE ('*' = ANY (ep.enabled_events) OR ev.type = ANY (ep.enabled_events)) END AND ep.created_at <= ev.created_at
     ) SELECT 1;
COMMIT;
\endpipeline
