import type { Queryable } from '../../db/client.ts';

export type StoredCredential = { id: string; merchantId: string; livemode: boolean; revokedAt: Date | null };

export async function insertApiClient(
  db: Queryable,
  client: { id: string; merchantId: string; livemode: boolean; secretSha256: Buffer },
): Promise<void> {
  await db.query(
    'INSERT INTO api_clients (id, merchant_id, livemode, secret_sha256) VALUES ($1, $2, $3, $4)',
    [client.id, client.merchantId, client.livemode, client.secretSha256],
  );
}

export async function insertApiKey(
  db: Queryable,
  key: { id: string; merchantId: string; livemode: boolean; keySha256: Buffer; keyHint: string },
): Promise<void> {
  await db.query(
    'INSERT INTO api_keys (id, merchant_id, livemode, key_sha256, key_hint) VALUES ($1, $2, $3, $4, $5)',
    [key.id, key.merchantId, key.livemode, key.keySha256, key.keyHint],
  );
}

export async function findApiClient(
  db: Queryable,
  id: string,
): Promise<(StoredCredential & { secretSha256: Buffer }) | undefined> {
  const { rows } = await db.query<{
    id: string;
    merchant_id: string;
    livemode: boolean;
    revoked_at: Date | null;
    secret_sha256: Buffer;
  }>('SELECT id, merchant_id, livemode, revoked_at, secret_sha256 FROM api_clients WHERE id = $1', [id]);
  const row = rows[0];
  return row
    ? {
        id: row.id,
        merchantId: row.merchant_id,
        livemode: row.livemode,
        revokedAt: row.revoked_at,
        secretSha256: row.secret_sha256,
      }
    : undefined;
}

export async function findApiKeyByDigest(
  db: Queryable,
  keySha256: Buffer,
): Promise<StoredCredential | undefined> {
  const { rows } = await db.query<{
    id: string;
    merchant_id: string;
    livemode: boolean;
    revoked_at: Date | null;
  }>('SELECT id, merchant_id, livemode, revoked_at FROM api_keys WHERE key_sha256 = $1', [keySha256]);
  const row = rows[0];
  return row
    ? { id: row.id, merchantId: row.merchant_id, livemode: row.livemode, revokedAt: row.revoked_at }
    : undefined;
}

/** Revokes a client (`cli_…`) or an API key (`key_…`); returns false when no such live credential exists. */
export async function revokeCredential(db: Queryable, id: string): Promise<boolean> {
  const table = id.startsWith('cli_') ? 'api_clients' : id.startsWith('key_') ? 'api_keys' : undefined;
  if (!table) return false;
  const { rowCount } = await db.query(
    `UPDATE ${table} SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`,
    [id],
  );
  return (rowCount ?? 0) > 0;
}

export async function findCredentialStatus(db: Queryable, id: string): Promise<StoredCredential | undefined> {
  const table = id.startsWith('cli_') ? 'api_clients' : 'api_keys';
  const { rows } = await db.query<{
    id: string;
    merchant_id: string;
    livemode: boolean;
    revoked_at: Date | null;
  }>(`SELECT id, merchant_id, livemode, revoked_at FROM ${table} WHERE id = $1`, [id]);
  const row = rows[0];
  return row
    ? { id: row.id, merchantId: row.merchant_id, livemode: row.livemode, revokedAt: row.revoked_at }
    : undefined;
}
