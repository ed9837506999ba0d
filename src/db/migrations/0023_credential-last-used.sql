-- When an API key or OAuth client was last used (GET /v1/api-keys, `kassa api-keys list`). Recorded in
-- batches — each process collects the credentials it saw and writes them with one UPDATE every few seconds
-- (src/modules/merchants/credential-usage.ts) — so it is accurate to those seconds, never a write per request.
-- An OAuth client is "used" when it gets a token and whenever one of its tokens is.
ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz;
ALTER TABLE api_clients ADD COLUMN last_used_at timestamptz;
