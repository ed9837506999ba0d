import pg from 'pg';
import { AppError } from '../lib/errors.ts';
import { PLANNED_PER_CALL, type Queryable } from './queryable.ts';
import { openUnitOfWork, type Transaction } from './unit-of-work.ts';

export { PLANNED_PER_CALL, type Queryable };

export type { Load, Pending, Statement, Transaction, UnitOfWork } from './unit-of-work.ts';

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

export type TransactionOptions = {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Retries on serialization failure / deadlock (SQLSTATE 40001, 40P01). */
  retries?: number;
};

export type Database = Queryable & {
  pool: pg.Pool;
  /** Runs `work` as one unit of work (`db/unit-of-work.ts`): one transaction, committed when it returns. */
  transaction<T>(work: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * The outbox doorbell: `listener` runs after every commit that wrote events (the webhook worker looks for
   * work at once instead of at its next poll). Answers the unsubscribe.
   */
  onEventsCommitted(listener: () => void): () => void;
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
      const { tx, finish, close, state } = openUnitOfWork(client, begin, statement);
      let emitted = false;
      try {
        const result = await work(tx);
        ({ emitted } = await finish());
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
        if (emitted) ringDoorbell();
      }
    }
  }

  const doorbell = new Set<() => void>();
  function ringDoorbell() {
    for (const listener of doorbell) {
      try {
        listener();
      } catch {
        // Only a latency hint: the workers poll anyway.
      }
    }
  }

  return {
    pool,
    query,
    transaction,
    onEventsCommitted(listener) {
      doorbell.add(listener);
      return () => doorbell.delete(listener);
    },
    close: () => pool.end(),
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
