/**
 * The data half of cursor pagination (the HTTP half — `limit`, `starting_after`, the page shape — is in
 * `src/http/pagination.ts`): lists are newest first, ordered by (created_at DESC, id DESC), and a repository
 * fetches `limit + 1` rows after the cursor row so the caller can tell whether there is more.
 */

/**
 * SQL for "after the cursor" in (created_at DESC, id DESC) order. `$n` is the cursor id's parameter; a
 * cursor that names no row of this table (or another merchant's) yields an empty page, not an error.
 */
export function cursorCondition(table: string, parameterIndex: number): string {
  return `(${table}.created_at, ${table}.id) < (SELECT c.created_at, c.id FROM ${table} c WHERE c.id = $${parameterIndex})`;
}
