-- Dated API versions (docs/api-conventions.md §13): a merchant is pinned to the Kassa-Version its first
-- authenticated request used, and a webhook endpoint renders its deliveries in its own version (default: the
-- merchant's). Merchants and endpoints that exist when versioning starts are pinned to the first dated version;
-- a merchant created from now on stays NULL until its first authenticated request pins it.
ALTER TABLE merchants ADD COLUMN api_version text;
UPDATE merchants SET api_version = '2026-12-06';
ALTER TABLE webhook_endpoints ADD COLUMN api_version text NOT NULL DEFAULT '2026-12-06';
ALTER TABLE webhook_endpoints ALTER COLUMN api_version DROP DEFAULT;
