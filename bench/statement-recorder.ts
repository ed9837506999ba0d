import type pg from 'pg';
import type { Load, UnitOfWork } from '../src/db/client.ts';

export type RecordedStatement = { text: string; values: unknown[] };

/**
 * A unit of work that records what it is asked to send instead of sending it; every result is empty. The
 * hot-statement plan test and bench/explain-hot.ts both use it to capture the SQL an operation sends.
 */
export function recorder(eventId: string): { tx: UnitOfWork; statements: RecordedStatement[] } {
  const statements: RecordedStatement[] = [];
  const empty = { rows: [], rowCount: 0, command: '', oid: 0, fields: [] };
  const record = (text: string, values: unknown[] = []) => {
    statements.push({ text, values });
  };
  const tx: UnitOfWork = {
    query: async <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
      record(text, values);
      return empty as pg.QueryResult<Row>;
    },
    write: <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
      record(text, values);
      return { result: async () => empty as pg.QueryResult<Row> };
    },
    load: (async (...loads: Load<unknown>[]) =>
      loads.map((load) => {
        record(load.text, load.values);
        return load.read(empty as pg.QueryResult);
      })) as UnitOfWork['load'],
    emit: () => ({ id: eventId }),
    flush: async () => {},
  };
  return { tx, statements };
}
