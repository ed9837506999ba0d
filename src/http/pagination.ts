import { z } from 'zod';

/**
 * Cursor pagination for every list (docs/api-conventions.md): `limit` 1–100 (default 20) and `starting_after` (the id of
 * the last object of the previous page). Lists are newest first; repositories fetch `limit + 1` rows
 * ordered by (created_at DESC, id DESC) after the cursor row (`cursorCondition`, src/db/pagination.ts),
 * and `toPage` trims the extra one.
 */
export const ZListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  starting_after: z.string().max(100).optional().describe('The id of the last object on the previous page'),
});

export function ZPage<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() });
}

export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  present: (row: Row) => Item,
  idOf: (item: Item) => string,
) {
  const hasMore = rows.length > limit;
  const data = rows.slice(0, limit).map(present);
  const last = data[data.length - 1];
  return { data, has_more: hasMore, next_cursor: hasMore && last ? idOf(last) : null };
}
