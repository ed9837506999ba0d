-- Work done later for a request keeps its trace (docs/operations.md "Tracing"): every event stores the W3C
-- `traceparent` of the request (or worker run) that emitted it, and the webhook deliveries and callback
-- notifications sent for it carry that trace on. A redelivery asked for through the API stores its own
-- request's trace (NULL: the event's). Events and deliveries written before this column existed have none and
-- are sent in the delivering worker's trace. Adding nullable columns rewrites nothing.
ALTER TABLE events ADD COLUMN traceparent text;
ALTER TABLE webhook_deliveries ADD COLUMN traceparent text;
