import type { Queryable } from '../../db/client.ts';
import {
  findLiveMerchantRow,
  listLiveMerchantRows,
  removeLiveMerchantRow,
  type MerchantMode,
  type MerchantOwnedTable,
} from '../../db/merchant-rows.ts';
import { fetchPage, type PageRequest, type Sql } from '../../db/pagination.ts';
import type { Scope } from '../auth/scopes.ts';

/**
 * SQL of the merchant credentials: OAuth clients (`api_clients`, `cli_…`) and API keys (`api_keys`, `key_…`).
 * Secrets are stored only as SHA-256 digests (merchant.service.ts says why a fast digest is right for them),
 * with a hint (prefix … last 4) to recognise them by.
 */

export type StoredCredential = { id: string; merchantId: string; livemode: boolean; revokedAt: Date | null };

export type ApiKeyType = 'secret' | 'restricted';

export type StoredApiKey = StoredCredential & {
  type: ApiKeyType;
  /** null for a secret key: it holds every scope. */
  scopes: Scope[] | null;
  name: string | null;
  metadata: Record<string, string>;
  keyHint: string;
  /** Set when the key was rolled: it stays valid until then. */
  expiresAt: Date | null;
  /** Accurate to the usage recorder's flush interval (credential-usage.ts); null: never used since tracked. */
  lastUsedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

export type StoredApiClient = StoredCredential & {
  /** null: every scope. */
  scopes: Scope[] | null;
  name: string | null;
  metadata: Record<string, string>;
  secretHint: string | null;
  secretSha256: Buffer;
  previousSecretSha256: Buffer | null;
  previousSecretExpiresAt: Date | null;
  lastUsedAt: Date | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

type ApiKeyRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  revoked_at: Date | null;
  type: ApiKeyType;
  scopes: Scope[] | null;
  name: string | null;
  metadata: Record<string, string>;
  key_hint: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
};

type ApiClientRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  revoked_at: Date | null;
  scopes: Scope[] | null;
  name: string | null;
  metadata: Record<string, string>;
  secret_hint: string | null;
  secret_sha256: Buffer;
  previous_secret_sha256: Buffer | null;
  previous_secret_expires_at: Date | null;
  last_used_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
};

const API_KEY_COLUMNS =
  'id, merchant_id, livemode, revoked_at, type, scopes, name, metadata, key_hint, expires_at, last_used_at, version, created_at, updated_at';
const API_CLIENT_COLUMNS =
  'id, merchant_id, livemode, revoked_at, scopes, name, metadata, secret_hint, secret_sha256, previous_secret_sha256, previous_secret_expires_at, last_used_at, version, created_at, updated_at';
const API_KEYS: MerchantOwnedTable = {
  table: 'api_keys',
  columns: API_KEY_COLUMNS,
  removedColumn: 'revoked_at',
};
const API_CLIENTS: MerchantOwnedTable = {
  table: 'api_clients',
  columns: API_CLIENT_COLUMNS,
  removedColumn: 'revoked_at',
};

function toApiKey(row: ApiKeyRow): StoredApiKey {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    revokedAt: row.revoked_at,
    type: row.type,
    scopes: row.scopes,
    name: row.name,
    metadata: row.metadata,
    keyHint: row.key_hint,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toApiClient(row: ApiClientRow): StoredApiClient {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    revokedAt: row.revoked_at,
    scopes: row.scopes,
    name: row.name,
    metadata: row.metadata,
    secretHint: row.secret_hint,
    secretSha256: row.secret_sha256,
    previousSecretSha256: row.previous_secret_sha256,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    lastUsedAt: row.last_used_at,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

type Owner = MerchantMode;

export async function insertApiClient(
  db: Queryable,
  client: {
    id: string;
    merchantId: string;
    livemode: boolean;
    secretSha256: Buffer;
    secretHint?: string;
    scopes?: readonly Scope[] | null;
    name?: string | null;
    metadata?: Record<string, string>;
  },
): Promise<StoredApiClient> {
  const { rows } = await db.query<ApiClientRow>(
    `INSERT INTO api_clients (id, merchant_id, livemode, secret_sha256, secret_hint, scopes, name, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${API_CLIENT_COLUMNS}`,
    [
      client.id,
      client.merchantId,
      client.livemode,
      client.secretSha256,
      client.secretHint ?? null,
      client.scopes ?? null,
      client.name ?? null,
      JSON.stringify(client.metadata ?? {}),
    ],
  );
  return toApiClient(rows[0]!);
}

export async function insertApiKey(
  db: Queryable,
  key: {
    id: string;
    merchantId: string;
    livemode: boolean;
    keySha256: Buffer;
    keyHint: string;
    type?: ApiKeyType;
    scopes?: readonly Scope[] | null;
    name?: string | null;
    metadata?: Record<string, string>;
  },
): Promise<StoredApiKey> {
  const { rows } = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (id, merchant_id, livemode, key_sha256, key_hint, type, scopes, name, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${API_KEY_COLUMNS}`,
    [
      key.id,
      key.merchantId,
      key.livemode,
      key.keySha256,
      key.keyHint,
      key.type ?? 'secret',
      key.type === 'restricted' ? key.scopes : null,
      key.name ?? null,
      JSON.stringify(key.metadata ?? {}),
    ],
  );
  return toApiKey(rows[0]!);
}

export async function findApiClient(db: Queryable, id: string): Promise<StoredApiClient | undefined> {
  const { rows } = await db.query<ApiClientRow>(
    `SELECT ${API_CLIENT_COLUMNS} FROM api_clients WHERE id = $1`,
    [id],
  );
  return rows[0] ? toApiClient(rows[0]) : undefined;
}

export async function findApiKeyByDigest(
  db: Queryable,
  keySha256: Buffer,
): Promise<StoredApiKey | undefined> {
  const { rows } = await db.query<ApiKeyRow>(
    `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE key_sha256 = $1`,
    [keySha256],
  );
  return rows[0] ? toApiKey(rows[0]) : undefined;
}

/** A key of this merchant and mode that has not been revoked (revoked keys answer like unknown ones). */
export async function findApiKey(
  db: Queryable,
  owner: Owner,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<StoredApiKey | undefined> {
  const row = await findLiveMerchantRow<ApiKeyRow>(db, API_KEYS, owner, id, options);
  return row && toApiKey(row);
}

export async function findOwnedApiClient(
  db: Queryable,
  owner: Owner,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<StoredApiClient | undefined> {
  const row = await findLiveMerchantRow<ApiClientRow>(db, API_CLIENTS, owner, id, options);
  return row && toApiClient(row);
}

/** A page of keys, newest first (`limit + 1` rows: src/db/pagination.ts); revoked keys are left out. */
export async function listApiKeys(
  db: Queryable,
  owner: Owner | { merchantId: string; livemode?: undefined },
  page: PageRequest,
): Promise<StoredApiKey[]> {
  const scope: Sql[] = [
    (p) => `api_keys.merchant_id = ${p(owner.merchantId)}`,
    () => 'api_keys.revoked_at IS NULL',
  ];
  if (owner.livemode !== undefined) scope.push((p) => `api_keys.livemode = ${p(owner.livemode)}`);
  const rows = await fetchPage<ApiKeyRow>(
    db,
    { alias: 'api_keys', from: 'api_keys', columns: API_KEY_COLUMNS, scope },
    page,
  );
  return rows.map(toApiKey);
}

/** A page of OAuth clients, newest first (`limit + 1` rows); revoked ones are left out. */
export async function listApiClients(
  db: Queryable,
  owner: Owner,
  page: PageRequest,
): Promise<StoredApiClient[]> {
  const rows = await listLiveMerchantRows<ApiClientRow>(db, API_CLIENTS, owner, page);
  return rows.map(toApiClient);
}

/** A rolled key stays valid until `expiresAt` (never later than an expiry it already had). */
export async function expireApiKey(db: Queryable, id: string, expiresAt: Date): Promise<StoredApiKey> {
  const { rows } = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, $2), $2), version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING ${API_KEY_COLUMNS}`,
    [id, expiresAt],
  );
  return toApiKey(rows[0]!);
}

/** A new client secret; the old one keeps working until `previousExpiresAt`. */
export async function replaceApiClientSecret(
  db: Queryable,
  id: string,
  secret: { sha256: Buffer; hint: string },
  previousExpiresAt: Date,
): Promise<StoredApiClient> {
  const { rows } = await db.query<ApiClientRow>(
    `UPDATE api_clients
        SET previous_secret_sha256 = secret_sha256, previous_secret_expires_at = $4,
            secret_sha256 = $2, secret_hint = $3, version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING ${API_CLIENT_COLUMNS}`,
    [id, secret.sha256, secret.hint, previousExpiresAt],
  );
  return toApiClient(rows[0]!);
}

/** Revokes a live API key of `owner`; answers it as revoked, or undefined when there is no such key. */
export async function revokeApiKeyRow(
  db: Queryable,
  owner: Owner,
  id: string,
): Promise<StoredApiKey | undefined> {
  const row = await removeLiveMerchantRow<ApiKeyRow>(db, API_KEYS, owner, id);
  return row && toApiKey(row);
}

/** Revokes a live OAuth client of `owner`; answers it as revoked, or undefined when there is no such client. */
export async function revokeApiClientRow(
  db: Queryable,
  owner: Owner,
  id: string,
): Promise<StoredApiClient | undefined> {
  const row = await removeLiveMerchantRow<ApiClientRow>(db, API_CLIENTS, owner, id);
  return row && toApiClient(row);
}

/** Revokes a client (`cli_…`) or an API key (`key_…`); returns false when no such live credential exists. */
export async function revokeCredential(db: Queryable, id: string, owner?: Owner): Promise<boolean> {
  const table = id.startsWith('cli_') ? 'api_clients' : id.startsWith('key_') ? 'api_keys' : undefined;
  if (!table) return false;
  const values: unknown[] = [id];
  let where = 'id = $1 AND revoked_at IS NULL';
  if (owner) {
    values.push(owner.merchantId, owner.livemode);
    where += ' AND merchant_id = $2 AND livemode = $3';
  }
  const { rowCount } = await db.query(
    `UPDATE ${table} SET revoked_at = now(), version = version + 1, updated_at = now() WHERE ${where}`,
    values,
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
