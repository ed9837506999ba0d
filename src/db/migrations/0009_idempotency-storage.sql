-- A stored response is sealed (encrypted, base64) and a checkout's is ~2.4 KB: over PostgreSQL's 2 KB TOAST
-- threshold, so every record went out of line — a second heap insert and index insert in the TOAST table on
-- every idempotent POST, and a TOAST fetch on every replay. Encrypted bytes do not compress either.
-- Keeping rows up to a whole page inline removes both; larger responses are still moved out of line.
ALTER TABLE idempotency_keys SET (toast_tuple_target = 8160);
ALTER TABLE idempotency_keys ALTER COLUMN response_body SET STORAGE EXTERNAL;
