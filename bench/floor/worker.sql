-- The webhook worker's turn, as the gateway sends it (bench/floor/capture.ts): a fan-out poll (finds nothing:
-- business transactions write their events already fanned out), a claim of the due deliveries (a batch: every
-- delivery the payments since the last turn wrote), the batched record of their attempts. run.ts runs this
-- script once per FLOOR_PAYMENTS_PER_TURN payments (pgbench weights), so each claim takes that many on average.
-- The gateway sends these statements unnamed (planned on every call): plan_cache_mode does the same here.
SET plan_cache_mode = force_custom_plan;
\set n random(1, 9000000000000000000)
/* planned per call */ WITH fanned AS (
       UPDATE events SET fanout_state = 'done', fanout_lease_until = NULL
        WHERE id = ANY (ARRAY(SELECT id FROM events
                               WHERE fanout_state = 'pending' AND (fanout_lease_until IS NULL OR fanout_lease_until < now())
                               ORDER BY seq LIMIT 200 FOR UPDATE SKIP LOCKED))
       RETURNING id, seq, type, created_at, merchant_id, livemode, data, actor_type, actor_id, traceparent,
                 target_endpoint_id, object_id, object_version, order_id, checkout_id, payment_id
     ), targets AS (
       SELECT 'del_' || md5(gen_random_uuid()::text || gen_random_uuid()::text) AS id, ev.id AS event_id, ev.type AS event_type, ev.created_at AS event_created_at,
              ev.data AS event_data, ev.actor_type AS event_actor_type, ev.actor_id AS event_actor_id, ev.merchant_id,
              ev.livemode, ev.traceparent, ev.livemode AS event_livemode, ev.object_id AS event_object_id,
  ev.object_version AS event_object_version, ev.order_id AS event_order_id, ev.checkout_id AS event_checkout_id,
  ev.payment_id AS event_payment_id, ep.id AS endpoint_id, ep.url, ep.api_version, ep.secret_encrypted,
              CASE WHEN ep.previous_secret_expires_at > now() THEN ep.previous_secret_encrypted END
                AS previous_secret_encrypted,
              row_number() OVER (ORDER BY ev.seq, ep.id) AS position
         FROM fanned ev JOIN webhook_endpoints ep ON ep.merchant_id = ev.merchant_id AND ep.livemode = ev.livemode
  AND ep.deleted_at IS NULL AND ep.status = 'enabled'
  AND CASE WHEN ev.target_endpoint_id IS NOT NULL THEN ep.id = ev.target_endpoint_id
           WHEN ev.type = 'ping' THEN ep.id = ev.data->>'webhook_endpoint_id'
           ELSE ('*' = ANY (ep.enabled_events) OR ev.type = ANY (ep.enabled_events)) END AND ep.created_at <= ev.created_at
     ), inserted AS (
       INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, livemode, origin,
           lease_until, lease_token, attempt_count)
       SELECT id, event_id, endpoint_id, merchant_id, livemode, 'event',
              CASE WHEN position <= 200 THEN now() + make_interval(secs => 60::float8) END,
              CASE WHEN position <= 200 THEN left(md5(:n::text || 'f'), 16) END,
              CASE WHEN position <= 200 THEN 1 ELSE 0 END
         FROM targets
       ON CONFLICT DO NOTHING
       RETURNING id
     )
     SELECT counts.events, counts.deliveries, leased.*
       FROM (SELECT (SELECT count(*) FROM fanned)::int AS events, (SELECT count(*) FROM inserted)::int AS deliveries) counts
       LEFT JOIN (
         SELECT t.id, t.event_id, t.event_type, t.event_created_at, t.event_data::text AS event_data_json,
                t.event_actor_type, t.event_actor_id, t.event_livemode, t.event_object_id, t.event_object_version,
                t.event_order_id, t.event_checkout_id, t.event_payment_id, t.endpoint_id, t.url, t.api_version,
                encode(t.secret_encrypted, 'hex') AS secret_encrypted,
                encode(t.previous_secret_encrypted, 'hex') AS previous_secret_encrypted, t.traceparent, t.position
           FROM targets t WHERE t.position <= 200 AND t.id IN (SELECT id FROM inserted)
       ) leased ON true
      ORDER BY leased.position;
-- The claim, as the gateway's; its rows are summed up here into the arrays the record statement takes.
WITH claimed AS (
     UPDATE webhook_deliveries d
        SET lease_until = now() + make_interval(secs => 60::float8), lease_token = left(md5(:n::text || 'l'), 16),
            attempt_count = d.attempt_count + CASE WHEN ep.status = 'enabled' AND ep.deleted_at IS NULL THEN 1 ELSE 0 END
       FROM events ev, webhook_endpoints ep
      WHERE d.id = ANY (ARRAY(
              SELECT id FROM webhook_deliveries
               WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
               ORDER BY next_attempt_at LIMIT 200
               FOR UPDATE SKIP LOCKED))
        AND ev.id = d.event_id AND ep.id = d.endpoint_id
     RETURNING d.id, d.attempt_count, d.event_id, ev.type AS event_type, ev.created_at AS event_created_at,
               ev.data::text AS event_data_json, ev.actor_type AS event_actor_type, ev.actor_id AS event_actor_id,
               ev.livemode AS event_livemode, ev.object_id AS event_object_id,
  ev.object_version AS event_object_version, ev.order_id AS event_order_id, ev.checkout_id AS event_checkout_id,
  ev.payment_id AS event_payment_id, d.endpoint_id, ep.url, ep.api_version,
               (ep.status = 'enabled' AND ep.deleted_at IS NULL) AS endpoint_active,
               encode(ep.secret_encrypted, 'hex') AS secret_encrypted,
               CASE WHEN ep.previous_secret_expires_at > now() THEN encode(ep.previous_secret_encrypted, 'hex') END
                 AS previous_secret_encrypted, COALESCE(d.traceparent, ev.traceparent) AS traceparent)
SELECT coalesce(array_agg(id), '{}') AS ids, count(*)::int AS claimed,
       coalesce(array_agg(left(md5(:n::text || 'l'), 16)), '{}') AS tokens,
       coalesce(array_agg(attempt_count), '{}') AS attempts, coalesce(array_agg(url), '{}') AS urls,
       sum(length(event_data_json) + length(secret_encrypted) + length(traceparent)) AS bytes
  FROM claimed \gset
WITH r AS (
       SELECT * FROM unnest(:ids::text[], :tokens::text[], array_fill('succeeded'::text, ARRAY[:claimed::int]),
                            array_fill(NULL::float8, ARRAY[:claimed::int]), array_fill(NULL::text, ARRAY[:claimed::int]),
                            array_fill(true, ARRAY[:claimed::int]), :attempts::int[],
                            array_fill(now(), ARRAY[:claimed::int]), :urls::text[], array_fill(200, ARRAY[:claimed::int]),
                            array_fill(2, ARRAY[:claimed::int]), array_fill('ok'::text, ARRAY[:claimed::int]),
                            array_fill(false, ARRAY[:claimed::int]))
         AS r (delivery_id, lease_token, outcome, retry_in, error, attempted, attempt_number,
               attempted_at, url, status_code, latency_ms, excerpt, truncated)
     ), updated AS (
       UPDATE webhook_deliveries d SET
           status = CASE WHEN r.outcome = 'retry' THEN 'pending' ELSE r.outcome END,
           next_attempt_at = CASE WHEN r.outcome = 'retry' THEN now() + make_interval(secs => r.retry_in)
                                  ELSE next_attempt_at END,
           completed_at = CASE WHEN r.outcome = 'retry' THEN NULL ELSE now() END,
           last_error = CASE WHEN r.outcome = 'succeeded' THEN NULL ELSE r.error END,
           lease_until = NULL, lease_token = NULL,
           last_attempt_at = CASE WHEN r.attempted THEN r.attempted_at ELSE d.last_attempt_at END,
           last_status_code = CASE WHEN r.attempted THEN r.status_code ELSE d.last_status_code END
         FROM r
        WHERE d.id = ANY (:ids::text[]) AND d.id = r.delivery_id AND d.lease_token = r.lease_token
       RETURNING d.id, d.next_attempt_at, d.status
     ), appended AS (
       INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, attempted_at, url, status_code,
           latency_ms, result, error, response_excerpt, response_truncated, next_attempt_at)
       SELECT r.delivery_id, r.attempt_number, r.attempted_at, r.url, r.status_code, r.latency_ms,
              CASE WHEN r.outcome = 'succeeded' THEN 'succeeded' ELSE 'failed' END, r.error, r.excerpt, r.truncated,
              CASE WHEN u.status = 'pending' THEN u.next_attempt_at END
         FROM r LEFT JOIN updated u ON u.id = r.delivery_id
        WHERE r.attempted
       ON CONFLICT DO NOTHING
     )
     SELECT id FROM updated;
RESET plan_cache_mode;
