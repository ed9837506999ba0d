-- A test event (`POST /v1/webhook-endpoints/{id}/test`, docs/webhooks.md) goes to the endpoint tested and no
-- other, whatever its type: a `payment.succeeded` example must not reach every endpoint subscribed to
-- `payment.succeeded`. `target_endpoint_id` names that endpoint; NULL (every other event) fans out by
-- subscription as before. `ping` events written before this column carried their endpoint in
-- `data.webhook_endpoint_id`, which the fan-out still reads. Adding a nullable column rewrites nothing.
ALTER TABLE events ADD COLUMN target_endpoint_id text;
