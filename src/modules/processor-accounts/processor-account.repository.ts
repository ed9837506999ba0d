import type { Load, Queryable } from '../../db/client.ts';
import {
  findLiveMerchantRow,
  listLiveMerchantRows,
  type MerchantOwnedTable,
} from '../../db/merchant-rows.ts';
import type { PageRequest } from '../../db/pagination.ts';
import type { MerchantScope, ProcessorAccount } from './processor-account.types.ts';

/** SQL for processor accounts. Merchant reads are scoped to (merchant, mode) and skip soft-deleted rows. */

type ProcessorAccountRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  processor: ProcessorAccount['processor'];
  status: ProcessorAccount['status'];
  payment_methods: ProcessorAccount['paymentMethods'];
  currencies: string[] | null;
  priority: number;
  multiple_captures: boolean;
  api_base_url: string | null;
  credentials_public: Record<string, string>;
  secret_hints: Record<string, string>;
  credentials_sealed: Buffer;
  webhook_secret_set: boolean;
  metadata: ProcessorAccount['metadata'];
  version: number;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
};

const COLUMNS = `id, merchant_id, livemode, processor, status, payment_methods, currencies, priority,
  multiple_captures, api_base_url, credentials_public, secret_hints, credentials_sealed, webhook_secret_set, metadata,
  version, created_at, updated_at, deleted_at`;
const PROCESSOR_ACCOUNTS: MerchantOwnedTable = {
  table: 'processor_accounts',
  columns: COLUMNS,
  removedColumn: 'deleted_at',
};

function toProcessorAccount(row: ProcessorAccountRow): ProcessorAccount {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    processor: row.processor,
    status: row.status,
    paymentMethods: row.payment_methods,
    currencies: row.currencies,
    priority: row.priority,
    multipleCaptures: row.multiple_captures,
    apiBaseUrl: row.api_base_url,
    publicCredentials: row.credentials_public,
    secretHints: row.secret_hints,
    credentialsSealed: row.credentials_sealed,
    webhookSecretSet: row.webhook_secret_set,
    metadata: row.metadata,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

export type StoredCredentials = {
  publicCredentials: Record<string, string>;
  secretHints: Record<string, string>;
  credentialsSealed: Buffer;
  webhookSecretSet: boolean;
};

export async function insertProcessorAccount(
  db: Queryable,
  account: {
    id: string;
    scope: MerchantScope;
    processor: ProcessorAccount['processor'];
    paymentMethods: string[];
    currencies: string[] | null;
    priority: number;
    multipleCaptures: boolean;
    apiBaseUrl: string | null;
    metadata: ProcessorAccount['metadata'];
    now: Date;
  } & StoredCredentials,
): Promise<ProcessorAccount> {
  const { rows } = await db.query<ProcessorAccountRow>(
    `INSERT INTO processor_accounts (id, merchant_id, livemode, processor, status, payment_methods, currencies, priority,
       api_base_url, credentials_public, secret_hints, credentials_sealed, webhook_secret_set, metadata, created_at,
       updated_at, multiple_captures)
     VALUES ($1, $2, $3, $4, 'ENABLED', $5, $6, $7, $8, $9, $10, $11, $12, $14, $13, $13, $15) RETURNING ${COLUMNS}`,
    [
      account.id,
      account.scope.merchantId,
      account.scope.livemode,
      account.processor,
      account.paymentMethods,
      account.currencies,
      account.priority,
      account.apiBaseUrl,
      JSON.stringify(account.publicCredentials),
      JSON.stringify(account.secretHints),
      account.credentialsSealed,
      account.webhookSecretSet,
      account.now,
      JSON.stringify(account.metadata),
      account.multipleCaptures,
    ],
  );
  return toProcessorAccount(rows[0]!);
}

export async function findProcessorAccount(
  db: Queryable,
  scope: MerchantScope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ProcessorAccount | undefined> {
  const row = await findLiveMerchantRow<ProcessorAccountRow>(db, PROCESSOR_ACCOUNTS, scope, id, options);
  return row && toProcessorAccount(row);
}

/**
 * By id alone, deleted ones included: the connector of a payment an account took, and the account a processor
 * webhook names in its URL.
 */
export async function findProcessorAccountById(
  db: Queryable,
  id: string,
): Promise<ProcessorAccount | undefined> {
  const { rows } = await db.query<ProcessorAccountRow>(
    `SELECT ${COLUMNS} FROM processor_accounts WHERE id = $1`,
    [id],
  );
  return rows[0] ? toProcessorAccount(rows[0]) : undefined;
}

/** A page of accounts, newest first (`limit + 1` rows: src/db/pagination.ts). */
export async function listProcessorAccounts(
  db: Queryable,
  scope: MerchantScope,
  page: PageRequest,
): Promise<ProcessorAccount[]> {
  const rows = await listLiveMerchantRows<ProcessorAccountRow>(db, PROCESSOR_ACCOUNTS, scope, page);
  return rows.map(toProcessorAccount);
}

/** The accounts that may take new payments in `scope`: enabled, not deleted; by priority, then age. */
/** The accounts that may take a new payment, as a statement of a load (a payment's start reads them with its session). */
export function loadRoutableProcessorAccounts(scope: MerchantScope): Load<ProcessorAccount[]> {
  return {
    text: `SELECT ${COLUMNS} FROM processor_accounts
      WHERE merchant_id = $1 AND livemode = $2 AND deleted_at IS NULL AND status = 'ENABLED'
      ORDER BY priority, created_at, id`,
    values: [scope.merchantId, scope.livemode],
    read: ({ rows }) => (rows as ProcessorAccountRow[]).map(toProcessorAccount),
  };
}

export async function listRoutableProcessorAccounts(
  db: Queryable,
  scope: MerchantScope,
): Promise<ProcessorAccount[]> {
  const load = loadRoutableProcessorAccounts(scope);
  return load.read(await db.query(load.text, load.values));
}

export async function countProcessorAccounts(db: Queryable, scope: MerchantScope): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM processor_accounts
      WHERE merchant_id = $1 AND livemode = $2 AND deleted_at IS NULL`,
    [scope.merchantId, scope.livemode],
  );
  return rows[0]?.count ?? 0;
}

export type ProcessorAccountPatch = {
  status?: ProcessorAccount['status'];
  paymentMethods?: string[];
  /** null = every currency; undefined = unchanged. */
  currencies?: string[] | null;
  priority?: number;
  multipleCaptures?: boolean;
  credentials?: StoredCredentials;
  /** The whole new metadata (the caller merged it); undefined = unchanged. */
  metadata?: ProcessorAccount['metadata'];
};

/** Applies a patch to a row the caller has locked, bumping `version`. */
export async function updateProcessorAccount(
  db: Queryable,
  id: string,
  patch: ProcessorAccountPatch,
  now: Date,
): Promise<ProcessorAccount> {
  const { rows } = await db.query<ProcessorAccountRow>(
    `UPDATE processor_accounts SET
        status = COALESCE($2, status),
        payment_methods = COALESCE($3, payment_methods),
        currencies = CASE WHEN $4::boolean THEN $5 ELSE currencies END,
        priority = COALESCE($6, priority),
        credentials_public = COALESCE($7, credentials_public),
        secret_hints = COALESCE($8, secret_hints),
        credentials_sealed = COALESCE($9, credentials_sealed),
        webhook_secret_set = COALESCE($10, webhook_secret_set),
        metadata = COALESCE($12, metadata),
        multiple_captures = COALESCE($13, multiple_captures),
        version = version + 1,
        updated_at = $11
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      patch.status ?? null,
      patch.paymentMethods ?? null,
      patch.currencies !== undefined,
      patch.currencies ?? null,
      patch.priority ?? null,
      patch.credentials ? JSON.stringify(patch.credentials.publicCredentials) : null,
      patch.credentials ? JSON.stringify(patch.credentials.secretHints) : null,
      patch.credentials?.credentialsSealed ?? null,
      patch.credentials?.webhookSecretSet ?? null,
      now,
      patch.metadata ? JSON.stringify(patch.metadata) : null,
      patch.multipleCaptures ?? null,
    ],
  );
  return toProcessorAccount(rows[0]!);
}

export async function softDeleteProcessorAccount(
  db: Queryable,
  id: string,
  now: Date,
): Promise<ProcessorAccount> {
  const { rows } = await db.query<ProcessorAccountRow>(
    `UPDATE processor_accounts SET deleted_at = $2, updated_at = $2, version = version + 1 WHERE id = $1
     RETURNING ${COLUMNS}`,
    [id, now],
  );
  return toProcessorAccount(rows[0]!);
}
