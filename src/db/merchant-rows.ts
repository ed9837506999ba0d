import type pg from 'pg';
import { fetchPage, type PageRequest } from './pagination.ts';
import type { Queryable } from './queryable.ts';

/**
 * A table of objects a merchant owns in one mode and removes by stamping a column (`revoked_at`, `deleted_at`)
 * rather than deleting the row — API keys, OAuth clients, webhook endpoints, processor accounts. A removed row
 * answers like one that never was: every read and the removal itself are scoped to (merchant, mode, not yet
 * removed). Each repository still owns its table; this is the SQL they would otherwise each write again.
 */
export type MerchantOwnedTable = {
  table: string;
  /** The columns a read returns (the repository's column list). */
  columns: string;
  /** The column a removal stamps; a row with it set is gone. */
  removedColumn: 'revoked_at' | 'deleted_at';
};

export type MerchantMode = { merchantId: string; livemode: boolean };

/** The live row `id` of `owner`, locked for the transaction when `forUpdate`. */
export async function findLiveMerchantRow<Row extends pg.QueryResultRow>(
  db: Queryable,
  table: MerchantOwnedTable,
  owner: MerchantMode,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Row | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT ${table.columns} FROM ${table.table}
      WHERE id = $1 AND merchant_id = $2 AND livemode = $3 AND ${table.removedColumn} IS NULL
      ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [id, owner.merchantId, owner.livemode],
  );
  return rows[0];
}

/** A page of `owner`'s live rows, newest first (`limit + 1` rows: pagination.ts). */
export function listLiveMerchantRows<Row extends pg.QueryResultRow>(
  db: Queryable,
  table: MerchantOwnedTable,
  owner: MerchantMode,
  page: PageRequest,
): Promise<Row[]> {
  return fetchPage<Row>(
    db,
    {
      alias: table.table,
      from: table.table,
      columns: table.columns,
      scope: [
        (p) => `${table.table}.merchant_id = ${p(owner.merchantId)}`,
        (p) => `${table.table}.livemode = ${p(owner.livemode)}`,
        () => `${table.table}.${table.removedColumn} IS NULL`,
      ],
    },
    page,
  );
}

/** Stamps the live row `id` of `owner` removed (a new version); answers it, or undefined when there is none. */
export async function removeLiveMerchantRow<Row extends pg.QueryResultRow>(
  db: Queryable,
  table: MerchantOwnedTable,
  owner: MerchantMode,
  id: string,
): Promise<Row | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE ${table.table} SET ${table.removedColumn} = now(), version = version + 1, updated_at = now()
      WHERE id = $1 AND merchant_id = $2 AND livemode = $3 AND ${table.removedColumn} IS NULL
      RETURNING ${table.columns}`,
    [id, owner.merchantId, owner.livemode],
  );
  return rows[0];
}
