/**
 * A row as PostgreSQL's `json_build_object` / `to_json` gives it to `pg`: timestamps arrive as ISO strings
 * instead of the `Date`s a plain column gives. For repositories that read several tables' rows as JSON in
 * one statement and then reuse the tables' own row mappers.
 */
export type JsonRow<Row> = {
  [Column in keyof Row]: Row[Column] extends Date
    ? string
    : Row[Column] extends Date | null
      ? string | null
      : Row[Column];
};

/** Turns the named timestamp columns of a `JsonRow` back into `Date`s (null stays null). */
export function withDates<Row, Column extends keyof Row>(
  json: JsonRow<Row>,
  columns: readonly Column[],
): Row {
  const row: Record<string, unknown> = { ...json };
  for (const column of columns) {
    const value = row[column as string];
    row[column as string] = value === null ? null : new Date(value as string);
  }
  return row as Row;
}
