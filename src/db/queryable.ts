import type pg from 'pg';

/**
 * What a repository takes: the pool (autocommit) or a transaction. In a file of its own so the outbox's SQL
 * and the unit of work, which `db/client.ts` builds on, need not import the client (no import cycle).
 */
export type Queryable = {
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>>;
};

/**
 * Put first in the SQL of a statement whose best plan depends on how many rows qualify at the moment — the
 * workers' queue scans (due deliveries, pending events, expiry sweeps, recovery): it runs unnamed and is
 * planned on every call. Prepared, PostgreSQL may settle on a generic plan made while a table was small (a
 * hash join over a sequential scan of `events` for the delivery claim), which turned a 20,000-delivery
 * drain from 4 s into 48 s on PostgreSQL 15 in a full benchmark run.
 */
export const PLANNED_PER_CALL = '/* planned per call */ ';
