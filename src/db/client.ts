import pg from 'pg';
import { AppError } from '../lib/errors.ts';
import { isParsedOn, queryWithin, toWireValues, type LeadingCommand } from './pipelined-transaction.ts';

/**
 * The one database handle: a `pg` pool plus a transaction helper. Repositories take a `Queryable`, so the
 * same function runs on the pool (autocommit) or inside a transaction.
 */

// Return int8/numeric as JS numbers only where they are safe; amounts are stored as bigint and must
// never silently lose precision, so parse them and refuse values beyond Number.MAX_SAFE_INTEGER.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`int8 value ${value} exceeds the safe integer range`);
  return parsed;
});

export type Queryable = {
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>>;
};

export type TransactionOptions = {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Retries on serialization failure / deadlock (SQLSTATE 40001, 40P01). */
  retries?: number;
};

/**
 * The handle `transaction` gives its work.
 *
 * - `commitWith` runs the transaction's LAST statement and its COMMIT in one round trip: if the statement
 *   fails, nothing commits (the error arrives as from `query`); after it the transaction is over, and any
 *   further statement is refused.
 * - `defer` queues a statement whose result the work does not need: it is sent in the same round trip as the
 *   transaction's next statement, or its COMMIT. If it fails, that next statement fails with its error (and
 *   the transaction, as always after an error, is rolled back). A deferred statement the work never follows
 *   with another is sent when the work returns, before COMMIT; if the work throws, it is never sent.
 */
export type Transaction = Queryable & {
  commitWith<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>>;
  defer(text: string, values?: unknown[]): void;
  /**
   * `defer` for a statement whose result IS wanted, but not before the work's next statement: a read that can
   * travel with it. `result()` answers once that statement has; if the work sent none, it sends the read
   * alone. If the statement it travelled with failed, `result()` rejects with that error (its answer is lost).
   */
  deferRead<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): { result(): Promise<pg.QueryResult<Row>> };
  /**
   * A `Queryable` whose statements are deferred reads (for repository functions that take one): each answers
   * once the work's next statement, sent right after, has carried it. One that nothing carried by the end of
   * the current turn of the event loop is sent alone, so awaiting it first costs a round trip, never a hang.
   */
  withNext: Queryable;
};

export type Database = Queryable & {
  pool: pg.Pool;
  transaction<T>(work: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
};

const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

/** SQLSTATE classes and node errors that mean "the database is not reachable right now". */
export function isDatabaseUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // 08 connection exception, 57P01-57P03 admin shutdown / crash shutdown / cannot connect now, 53300 too many connections
    if (code.startsWith('08') || code.startsWith('57P') || code === '53300') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND'].includes(code)) return true;
    // A stopped server removes its unix socket: connecting then fails with ENOENT rather than ECONNREFUSED.
    if (code === 'ENOENT' && (error as { syscall?: unknown }).syscall === 'connect') return true;
  }
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection/i.test(
    error.message,
  );
}

/**
 * Put first in the SQL of a statement whose best plan depends on how many rows qualify at the moment — the
 * workers' queue scans (due deliveries, pending events, expiry sweeps, recovery): it runs unnamed and is
 * planned on every call. Prepared, PostgreSQL may settle on a generic plan made while a table was small (a
 * hash join over a sequential scan of `events` for the delivery claim), which turned a 20,000-delivery
 * drain from 4 s into 48 s on PostgreSQL 15 in a full benchmark run.
 */
export const PLANNED_PER_CALL = '/* planned per call */ ';

/**
 * Every statement runs as a NAMED prepared statement, keyed by its SQL text: PostgreSQL then parses and
 * plans it once per connection instead of on every call. Planning was ~40 % of PostgreSQL's time per
 * statement on the create-checkout path (pg_stat_statements with track_planning), and 0.45 ms of the hosted
 * page's 0.65 ms query. The texts are module constants, so the set is small; SQL built with a variable
 * shape (n rows in one INSERT) adds one name per shape. `PLANNED_PER_CALL` statements stay unnamed. Past
 * `limit` names a text runs unnamed, so a
 * caller that built SQL with values inside could never exhaust the server's memory.
 */
export function createStatementNames(limit = 1000) {
  const names = new Map<string, string>();
  return (text: string): string | undefined => {
    if (text.startsWith(PLANNED_PER_CALL)) return undefined;
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= limit) return undefined;
      name = `kassa_${names.size.toString(36)}`;
      names.set(text, name);
    }
    return name;
  };
}

export function createDatabase(options: {
  connectionString: string;
  max?: number;
  applicationName?: string;
}): Database {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    // Fail fast when the server is down or the pool is exhausted: callers answer 503 rather than hang.
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'kassa',
  });
  // An idle client losing its connection (server restart) must not crash the process; the pool discards it.
  pool.on('error', () => {});
  // A client checked out of the pool has no 'error' listener (pg-pool removes its idle one), so a connection
  // lost between two queries of a transaction — the server restarting — would be an unhandled 'error' event
  // and kill the process. The failure still reaches the caller through its next query, and the pool drops
  // the dead client on release; this listener only keeps the event from being fatal.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });

  const statementName = createStatementNames();
  const statement = (text: string, values: unknown[] | undefined): pg.QueryConfig => ({
    name: statementName(text),
    text,
    values,
  });

  async function query<Row extends pg.QueryResultRow>(text: string, values?: unknown[]) {
    try {
      return await pool.query<Row>(statement(text, values));
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  async function transaction<T>(work: (tx: Transaction) => Promise<T>, txOptions: TransactionOptions = {}) {
    const attempts = 1 + (txOptions.retries ?? (txOptions.isolation === 'serializable' ? 5 : 0));
    for (let attempt = 1; ; attempt += 1) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translateDatabaseError(error);
      }
      let broken = false;
      // BEGIN travels with the transaction's first statement and COMMIT with its last when the work names it
      // (`commitWith`): no round trip of their own. Work that sent nothing has nothing to commit or roll back.
      const begin = txOptions.isolation
        ? `BEGIN ISOLATION LEVEL ${txOptions.isolation.toUpperCase()}`
        : 'BEGIN';
      const { tx, finish, close, state } = openTransaction(client, begin, statement);
      try {
        const result = await work(tx);
        await finish();
        return result;
      } catch (error) {
        try {
          // After a failed commitWith the server has already ended the transaction; ROLLBACK is then a no-op.
          if (state() !== 'idle' && state() !== 'committed') await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        // A table whose columns changed under a prepared statement (another process migrated) makes the
        // server refuse it on this connection; a new connection prepares afresh. (pool.query drops a
        // connection after any error already.)
        if (isStalePreparedStatement(error)) broken = true;
        const sqlstate = (error as { code?: string }).code;
        if (sqlstate && RETRYABLE_SQLSTATES.has(sqlstate) && attempt < attempts) continue;
        throw translateDatabaseError(error);
      } finally {
        close();
        client.release(broken);
      }
    }
  }

  return {
    pool,
    query,
    transaction,
    close: () => pool.end(),
  };
}

type TransactionState = 'idle' | 'open' | 'committing' | 'committed';

/** A deferred statement, and where its result goes when the work asked for it (`deferRead`). */
type Queued = {
  query: pg.QueryConfig;
  answer?: { resolve(result: pg.QueryResult): void; reject(error: unknown): void };
};

/**
 * The handle `transaction` gives its work, on a checked-out client: it opens the transaction with the first
 * statement, carries deferred statements along with the next one, and `finish` commits (with the last
 * deferred statement when there is one).
 */
function openTransaction(
  client: pg.PoolClient,
  begin: string,
  statement: (text: string, values: unknown[] | undefined) => pg.QueryConfig,
): { tx: Transaction; finish(): Promise<void>; close(): void; state(): TransactionState } {
  let state: TransactionState = 'idle';
  let deferred: Queued[] = [];
  // Set once the work is over (committed, or failed and rolled back): the client goes back to the pool, and a
  // read still queued (a `withNext` whose work failed first) must never reach another transaction.
  let closed = false;

  /** Sends `query` with `leading` ahead of it; answers with the leading commands' results and its own. */
  const run = async (query: pg.QueryConfig, commit: boolean, leading: LeadingCommand[]) => {
    const opening = state === 'idle' ? [begin] : [];
    state = commit ? 'committing' : 'open';
    const before = [...opening, ...leading];
    if (before.length === 0 && !commit) return { leading: [], own: await client.query(query) };
    const results = await queryWithin(client, { before, after: commit ? 'COMMIT' : undefined }, query);
    if (commit) state = 'committed';
    return { leading: results.slice(opening.length, before.length), own: results[before.length]! };
  };

  const refuseAfterCommit = () => {
    if (state === 'committing' || state === 'committed') {
      throw new Error('This transaction has already been committed');
    }
    if (closed) throw new Error('This transaction is over');
  };

  const send = async (query: pg.QueryConfig, commit: boolean): Promise<pg.QueryResult> => {
    refuseAfterCommit();
    const queued = deferred;
    deferred = [];
    try {
      // Deferred statements ride along only once this connection has prepared them (they are sent without a
      // Parse of their own); the first time, each runs alone, which prepares it for next time.
      if (queued.every(({ query: q }) => isParsedOn(client, q.name, q.text))) {
        const leading = queued.map(({ query: q }) => ({ name: q.name!, values: q.values! }));
        const results = await run(query, commit, leading);
        queued.forEach((entry, index) => entry.answer?.resolve(results.leading[index]!));
        return results.own;
      }
      while (queued.length > 0) {
        const entry = queued[0]!;
        const { own } = await run(entry.query, false, []);
        queued.shift();
        entry.answer?.resolve(own);
      }
      return (await run(query, commit, [])).own;
    } catch (error) {
      for (const entry of queued) entry.answer?.reject(error);
      throw error;
    }
  };

  /** Sends the last deferred statement, with the others ahead of it. */
  const sendDeferred = async (commit: boolean) => {
    const last = deferred.pop()!;
    try {
      const result = await send(last.query, commit); // (not inside `answer?.resolve(…)`: `?.` would skip it)
      last.answer?.resolve(result);
    } catch (error) {
      last.answer?.reject(error);
      throw error;
    }
  };

  const tx: Transaction = {
    query: <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      send(statement(text, values), false) as Promise<pg.QueryResult<Row>>,
    commitWith: <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
      send(statement(text, values), true) as Promise<pg.QueryResult<Row>>,
    defer: (text, values) => {
      refuseAfterCommit();
      deferred.push({ query: statement(text, toWireValues(values)) });
    },
    deferRead: <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
      refuseAfterCommit();
      let answer!: Queued['answer'] & object;
      const result = new Promise<pg.QueryResult>((resolve, reject) => (answer = { resolve, reject }));
      result.catch(() => {}); // the work may never ask for it (it failed first)
      const entry: Queued = { query: statement(text, toWireValues(values)), answer };
      deferred.push(entry);
      return {
        result: async () => {
          const index = deferred.indexOf(entry);
          if (index >= 0) {
            // Not sent yet: send it now (with what was deferred before it); later ones keep waiting.
            const later = deferred.splice(index + 1);
            try {
              await sendDeferred(false);
            } finally {
              deferred.push(...later);
            }
          }
          return result as Promise<pg.QueryResult<Row>>;
        },
      };
    },
    withNext: {
      query: <Row extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
        const read = tx.deferRead<Row>(text, values);
        const answer = new Promise<pg.QueryResult<Row>>((resolve, reject) => {
          setImmediate(() => read.result().then(resolve, reject));
        });
        answer.catch(() => {}); // awaited by the work, unless it failed first
        return answer;
      },
    },
  };

  return {
    tx,
    state: () => state,
    async finish() {
      if (deferred.length > 0) await sendDeferred(true);
      else if (state === 'open') await client.query('COMMIT');
    },
    close() {
      closed = true;
      for (const entry of deferred) entry.answer?.reject(new Error('This transaction is over'));
      deferred = [];
    },
  };
}

function isStalePreparedStatement(error: unknown): boolean {
  return (
    (error as { code?: unknown })?.code === '0A000' &&
    /cached plan must not change result type/.test((error as Error).message)
  );
}

/** Connection failures become a coded 503 so the HTTP layer answers fast with a problem document. */
export function translateDatabaseError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  // 22021: a text value holds U+0000, which PostgreSQL text cannot store. It comes from the caller's input
  // (any field or query parameter), so it is the caller's error, not ours.
  if ((error as { code?: unknown })?.code === '22021') {
    return new AppError('invalid_request', 'Text must not contain the NUL character (U+0000)', {
      cause: error,
    });
  }
  if (isDatabaseUnavailableError(error)) {
    return new AppError('service_unavailable', 'The database is not reachable; try again shortly.', {
      cause: error,
      headers: { 'retry-after': '1' },
    });
  }
  return error;
}

/** Postgres unique violation, for "insert or find the existing row" flows. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pgError = error as { code?: string; constraint?: string };
  return pgError?.code === '23505' && (constraint === undefined || pgError.constraint === constraint);
}
