-- The webhook worker's turn in the floor: the deliveries come leased from the business transaction that wrote
-- them (the committing process queues them), so there is no fan-out poll and no claim; only the batched record
-- of the attempts, as the gateway's. The first statement stands in for the process's in-memory queue (the replay
-- has no other way to learn the ids): it reads the leased deliveries through the due index.
\set n random(1, 9000000000000000000)
SELECT coalesce(array_agg(id), '{}') AS ids, count(*)::int AS claimed, coalesce(array_agg(lease_token), '{}') AS tokens,
       coalesce(array_agg(attempt_count), '{}') AS attempts,
       coalesce(array_agg('http://127.0.0.1:9/hook'::text), '{}') AS urls
  FROM (SELECT id, lease_token, attempt_count FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= now() AND lease_until IS NOT NULL
         ORDER BY next_attempt_at LIMIT 200) AS leased \gset
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
