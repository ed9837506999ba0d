import { z } from 'zod';
import { splitPage, type PageRequest } from '../db/pagination.ts';
import { validationError } from '../lib/errors.ts';

/**
 * The HTTP half of cursor pagination (docs/api-conventions.md §7 and §8): every list takes `ZListQuery`'s
 * parameters — `limit` 1–100 (default 20), `starting_after` / `ending_before`, and the `created_gte`,
 * `created_gt`, `created_lte`, `created_lt` bounds — and answers `ZPage`'s one envelope. The SQL half
 * (order, cursor check, bounds, the extra row) is `src/db/pagination.ts`.
 */

const zTimestamp = z.iso.datetime({ offset: true });

export const ZListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('Page size, 1–100 (default 20)'),
  starting_after: z
    .string()
    .max(100)
    .optional()
    .describe('An id from this list: the page after it (older objects). Not with ending_before'),
  ending_before: z
    .string()
    .max(100)
    .optional()
    .describe('An id from this list: the page before it (newer objects), still newest first'),
  created_gte: zTimestamp.optional().describe('Only objects created at or after this RFC 3339 time'),
  created_gt: zTimestamp.optional().describe('Only objects created after this RFC 3339 time'),
  created_lte: zTimestamp.optional().describe('Only objects created at or before this RFC 3339 time'),
  created_lt: zTimestamp.optional().describe('Only objects created before this RFC 3339 time'),
});

export type ListQuery = z.infer<typeof ZListQuery>;

const date = (text: string | undefined) => (text === undefined ? undefined : new Date(text));

/** The query's paging part for a repository; both cursors at once is a 422. */
export function toPageRequest(query: ListQuery): PageRequest {
  if (query.starting_after !== undefined && query.ending_before !== undefined)
    throw validationError([
      {
        pointer: '/query/ending_before',
        code: 'not_allowed',
        message: 'must not be sent with starting_after: choose one direction',
      },
    ]);
  return {
    limit: query.limit,
    startingAfter: query.starting_after,
    endingBefore: query.ending_before,
    createdGte: date(query.created_gte),
    createdGt: date(query.created_gt),
    createdLte: date(query.created_lte),
    createdLt: date(query.created_lt),
  };
}

/** The one list envelope. */
export function ZPage<T extends z.ZodType>(item: T) {
  return z.object({
    object: z.literal('list'),
    data: z.array(item).describe('Newest first'),
    has_more: z.boolean().describe('Whether there is more in the direction of travel'),
    next_cursor: z
      .string()
      .nullable()
      .describe(
        'Send as starting_after (or, paging back, as ending_before) to continue; null when has_more is false',
      ),
  });
}

/** A fetched page (`limit + 1` rows, src/db/pagination.ts) as the envelope. */
export function toPage<Row, Item>(
  rows: Row[],
  page: Pick<PageRequest, 'limit' | 'endingBefore'>,
  present: (row: Row) => Item,
  idOf: (item: Item) => string,
) {
  const data = rows.map(present);
  const split = splitPage(data, page, idOf);
  return {
    object: 'list' as const,
    data: split.rows,
    has_more: split.hasMore,
    next_cursor: split.nextCursor,
  };
}

/** A list that is never paginated (settings keyed by name): the same envelope, always complete. */
export function wholeList<Item>(data: Item[]) {
  return { object: 'list' as const, data, has_more: false, next_cursor: null };
}
