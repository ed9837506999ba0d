import { AppError } from '../lib/errors.ts';
import type pg from 'pg';
import type { Queryable } from './queryable.ts';

/**
 * The data half of cursor pagination, shared by every list (docs/api-conventions.md §7; the HTTP half — the
 * query parameters and the envelope — is `src/http/pagination.ts`).
 *
 * - Order: newest first, (created_at DESC, <tiebreak> DESC); the tiebreak is `id`, or `seq` for events.
 * - `startingAfter` pages towards older rows, `endingBefore` towards newer ones; the page is newest first
 *   either way.
 * - A cursor must be a row **of this list** — the list's scope conditions (merchant, mode, parent, not
 *   deleted), not its filters — else the request is refused with 400 `invalid_cursor`: an unknown,
 *   foreign or wrong-type id would otherwise give an empty page that looks like the end of the list.
 * - `created_gte` / `created_gt` / `created_lte` / `created_lt` bound the time column on every list.
 *
 * A list fetches `limit + 1` rows newest first; the extra row, when there is one, lies on the far side of
 * the page from the cursor (after the page going forward, before it going back), and `splitPage` removes it.
 */

export type PageRequest = {
  limit: number;
  startingAfter?: string | undefined;
  endingBefore?: string | undefined;
  createdGte?: Date | undefined;
  createdGt?: Date | undefined;
  createdLte?: Date | undefined;
  createdLt?: Date | undefined;
};

/** A piece of SQL that takes its values through `param`, which answers the placeholder (`$3`). */
export type Sql = (param: (value: unknown) => string) => string;

export type KeysetList = {
  /** What the rows are called in `columns`, `scope` and `filters`: the table, or the FROM clause's alias. */
  alias: string;
  /** The FROM clause (a table name, or a subquery `(…) AS <alias>`). */
  from: string | Sql;
  /** The select list. */
  columns: string;
  /** What makes a row part of this list (merchant, mode, parent, not deleted): a cursor must satisfy it. */
  scope: Sql[];
  /** Narrow the page; they do not judge the cursor (a row that left a filter still works as one). */
  filters?: Sql[];
  /** The column ordering rows created at the same instant; default `id`. */
  tiebreak?: string;
  /** The time column the order and the `created_*` bounds use; default `created_at`. */
  time?: string;
};

function render(sql: string | Sql, values: unknown[]): string {
  if (typeof sql === 'string') return sql;
  return sql((value) => {
    values.push(value);
    return `$${values.length}`;
  });
}

export function invalidCursorError(cursor: string): AppError {
  return new AppError(
    'invalid_cursor',
    `${JSON.stringify(cursor.slice(0, 100))} is not the id of an object of this list; send an id from a page of this list`,
    { extensions: { cursor: cursor.slice(0, 100) } },
  );
}

/** Both cursors at once is a validation error raised by the query schema; this is the last guard. */
function cursorOf(page: PageRequest): { id: string; forward: boolean } | undefined {
  if (page.startingAfter !== undefined && page.endingBefore !== undefined)
    throw new AppError('invalid_request', 'Send starting_after or ending_before, not both');
  if (page.startingAfter !== undefined) return { id: page.startingAfter, forward: true };
  if (page.endingBefore !== undefined) return { id: page.endingBefore, forward: false };
  return undefined;
}

/**
 * The position of a cursor in a list: its (time, tiebreak), or 400 `invalid_cursor` when the id names no row
 * of the list (the time as PostgreSQL's text, to be cast back with `::timestamptz`). Exported for lists merged from several sources (the order timeline).
 */
export async function resolveCursor(
  db: Queryable,
  list: Pick<KeysetList, 'alias' | 'from' | 'scope' | 'tiebreak' | 'time'>,
  cursor: string,
): Promise<{ time: string; tiebreak: unknown }> {
  const values: unknown[] = [];
  const from = render(list.from, values);
  const conditions = [`${list.alias}.id = ${render((p) => p(cursor), values)}`];
  for (const condition of list.scope) conditions.push(render(condition, values));
  // The time travels as text: a JS Date would drop the column's microseconds and misplace the cursor.
  const { rows } = await db.query<{ time: string; tiebreak: unknown }>(
    `SELECT ${list.alias}.${list.time ?? 'created_at'}::text AS time, ${list.alias}.${list.tiebreak ?? 'id'} AS tiebreak
       FROM ${from} WHERE ${conditions.join(' AND ')}`,
    values,
  );
  const row = rows[0];
  if (!row) throw invalidCursorError(cursor);
  return row;
}

/** The `created_*` bounds of `page` on `column`, as conditions. */
export function createdBounds(column: string, page: PageRequest): Sql[] {
  const bounds: Sql[] = [];
  if (page.createdGte !== undefined) bounds.push((p) => `${column} >= ${p(page.createdGte)}`);
  if (page.createdGt !== undefined) bounds.push((p) => `${column} > ${p(page.createdGt)}`);
  if (page.createdLte !== undefined) bounds.push((p) => `${column} <= ${p(page.createdLte)}`);
  if (page.createdLt !== undefined) bounds.push((p) => `${column} < ${p(page.createdLt)}`);
  return bounds;
}

/**
 * One page of `list`: `limit + 1` rows newest first (see the header), after resolving the cursor, which
 * throws 400 `invalid_cursor` for an id that is not in the list.
 */
export async function fetchPage<Row extends pg.QueryResultRow>(
  db: Queryable,
  list: KeysetList,
  page: PageRequest,
): Promise<Row[]> {
  const time = `${list.alias}.${list.time ?? 'created_at'}`;
  const tiebreak = `${list.alias}.${list.tiebreak ?? 'id'}`;
  const cursor = cursorOf(page);
  const position = cursor && (await resolveCursor(db, list, cursor.id));
  const values: unknown[] = [];
  const from = render(list.from, values);
  const conditions = [...list.scope, ...(list.filters ?? []), ...createdBounds(time, page)].map((sql) =>
    render(sql, values),
  );
  if (cursor && position) {
    const at = render((p) => `${p(position.time)}::timestamptz`, values);
    const key = render((p) => p(position.tiebreak), values);
    conditions.push(`(${time}, ${tiebreak}) ${cursor.forward ? '<' : '>'} (${at}, ${key})`);
  }
  const direction = cursor && !cursor.forward ? 'ASC' : 'DESC';
  values.push(page.limit + 1);
  const { rows } = await db.query<Row>(
    `SELECT ${list.columns} FROM ${from}
      ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
      ORDER BY ${time} ${direction}, ${tiebreak} ${direction} LIMIT $${values.length}`,
    values,
  );
  return direction === 'ASC' ? rows.reverse() : rows;
}

/**
 * A fetched page (`limit + 1` rows newest first, as `fetchPage` answers) without its extra row, whether
 * there is more in the direction of travel, and the id to send to continue in that direction.
 */
export function splitPage<Row>(
  rows: Row[],
  page: Pick<PageRequest, 'limit' | 'endingBefore'>,
  idOf: (row: Row) => string,
): { rows: Row[]; hasMore: boolean; nextCursor: string | null } {
  const hasMore = rows.length > page.limit;
  const backwards = page.endingBefore !== undefined;
  const kept = backwards ? rows.slice(Math.max(0, rows.length - page.limit)) : rows.slice(0, page.limit);
  const edge = backwards ? kept[0] : kept[kept.length - 1];
  return { rows: kept, hasMore, nextCursor: hasMore && edge !== undefined ? idOf(edge) : null };
}

/**
 * A position in a list merged from several sources (the order timeline): newest first by time, then by the
 * source's rank, then by the source's own key columns. `time` is PostgreSQL's text of the timestamp.
 */
export type MergedPosition = { time: string; rank: number; key: unknown[] };

/** What one source of a merged list fetches: `limit` rows in the direction of travel, past `position`. */
export type MergedWindow = {
  limit: number;
  /** true: older than `position` (newest first); false: newer (oldest first, the caller reverses). */
  forward: boolean;
  position?: MergedPosition | undefined;
  page: PageRequest;
};

/**
 * The conditions and the order for one source of a merged list, whose rows are (`time`, …`keys`) at `rank`:
 * the `created_*` bounds on `time`, and "past the cursor" — which, for another source's cursor at the same
 * instant, depends only on the ranks.
 */
export function mergedSourceQuery(
  window: MergedWindow,
  rank: number,
  time: string,
  keys: string[],
): { conditions: Sql[]; orderBy: string } {
  const conditions = createdBounds(time, window.page);
  const position = window.position;
  if (position) {
    const older = window.forward;
    if (position.rank === rank) {
      conditions.push(
        (p) =>
          `(${[time, ...keys].join(', ')}) ${older ? '<' : '>'} (${[
            `${p(position.time)}::timestamptz`,
            ...position.key.map((value) => p(value)),
          ].join(', ')})`,
      );
    } else {
      // At the cursor's instant, a lower rank is older.
      const inclusive = older ? rank < position.rank : rank > position.rank;
      conditions.push(
        (p) => `${time} ${older ? '<' : '>'}${inclusive ? '=' : ''} ${p(position.time)}::timestamptz`,
      );
    }
  }
  const direction = window.forward ? 'DESC' : 'ASC';
  return { conditions, orderBy: [time, ...keys].map((column) => `${column} ${direction}`).join(', ') };
}

/** Renders conditions into a WHERE clause's terms, adding their values to `values`. */
/** A row's place in a merged window: its time as text, in microseconds, and its key within the source. */
export type MergedRowPosition = { time: string; us: bigint; key: unknown[] };

/** The SQL of a row's time for `MergedRowPosition`. */
export const positionColumns = (time: string) =>
  `${time}::text AS position_time, (extract(epoch FROM ${time}) * 1000000)::bigint AS position_us`;

export function renderConditions(conditions: Sql[], values: unknown[]): string[] {
  return conditions.map((sql) => render(sql, values));
}
