import type pg from 'pg';
import { eventsStatement, withEventId, type EventWithId, type OutboxEvent } from '../outbox/event-writer.ts';
import type { Queryable } from './queryable.ts';
import { isParsedOn, queryWithin, toWireValues, type LeadingCommand } from './pipelined-transaction.ts';

/**
 * The unit of work: what `db.transaction` gives the work of one state-changing operation. Every operation has
 * the same shape (docs/ARCHITECTURE.md, "State changes"):
 *
 *   load   — `query` / `sequence`: the statements that lock and read what the decision needs;
 *   decide — plain code, no I/O;
 *   apply  — `write` and `emit`: the changes and their events, queued; the unit sends them with COMMIT when
 *            the work returns, then rings the outbox doorbell (`Database.onEventsCommitted`) if it emitted.
 *
 * How few round trips that costs is this file's business and `pipelined-transaction.ts`'s, not the
 * caller's: BEGIN travels with the first statement, queued writes travel ahead of the next statement sent
 * (or with COMMIT), a `sequence` goes as one batch, and events are written by one statement, last, in the
 * order they were emitted. docs/adr/0004-unit-of-work.md records where each of these went.
 */
export type UnitOfWork = Queryable & {
  /**
   * Queues a write (or a read that may wait): it is sent, in order with the other queued statements, ahead
   * of the next statement the work sends, or with COMMIT. `result()` answers once it has been sent — asking
   * before then sends it at once. After the unit committed, `result()` answers with what it wrote. If it
   * fails, the unit fails with its error and nothing commits.
   */
  write<Row extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Pending<Row>;
  /**
   * The load of an operation: runs the statements one after another — each starts once the one before it
   * has finished, so a read after a locking statement sees the row as locked, and locks are taken in the
   * order given — and answers with what each one read, in order.
   */
  load<const Loads extends readonly Load<unknown>[]>(...loads: Loads): Promise<Loaded<Loads>>;
  /**
   * Records an event of this unit's change, with its snapshot. Events are written together, after the
   * unit's other writes and in the order emitted, and commit with them (or not at all). Answers the id the
   * event will have.
   */
  emit(event: OutboxEvent): { id: string };
  /** Sends every queued write and event now: for work that must read back what it has written. */
  flush(): Promise<void>;
};

export type Statement = { text: string; values?: unknown[] };

/** A statement of a load and how to read its answer (repositories build them: they own the SQL). */
export type Load<T> = Statement & { read(result: pg.QueryResult): T };

export type Loaded<Loads extends readonly Load<unknown>[]> = {
  -readonly [Index in keyof Loads]: Loads[Index] extends Load<infer T> ? T : never;
};

/** A queued statement's answer (`UnitOfWork.write`). */
export type Pending<Row extends pg.QueryResultRow = pg.QueryResultRow> = {
  result(): Promise<pg.QueryResult<Row>>;
};

/**
 * The unit of work with the db layer's own controls over its round trips, for `db/` and for the tests that
 * pin them (test/unit/db/pipelined-transaction.test.ts). Module code takes a `UnitOfWork`.
 *
 * - `commitWith` runs the transaction's LAST statement and its COMMIT in one round trip: if the statement
 *   fails, nothing commits (the error arrives as from `query`); after it the transaction is over, and any
 *   further statement is refused.
 * - `defer` queues a statement whose result the work does not need (`write` without the answer).
 * - `deferRead` is `write`: its `result()` answers once the statement it travelled with has. If that
 *   statement failed, `result()` rejects with that error (its answer is lost).
 * - `withNext`: a `Queryable` whose statements are deferred reads, each sent with the statement sent right
 *   after it, or alone at the end of the current turn of the event loop.
 */
export type Transaction = UnitOfWork & {
  commitWith<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<Row>>;
  defer(text: string, values?: unknown[]): void;
  deferRead<Row extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Pending<Row>;
  withNext: Queryable;
};

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
export function openUnitOfWork(
  client: pg.PoolClient,
  begin: string,
  statement: (text: string, values: unknown[] | undefined) => pg.QueryConfig,
): {
  tx: Transaction;
  /** Sends what is queued with COMMIT; answers whether events were written. */
  finish(): Promise<{ emitted: boolean }>;
  close(): void;
  state(): TransactionState;
} {
  let state: TransactionState = 'idle';
  let deferred: Queued[] = [];
  // Emitted events wait here, in order, until the unit's writes are sent: then one statement writes them all.
  let events: EventWithId[] = [];
  let emitted = false;
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

  /** Queues the statement that writes the events emitted so far, behind the queued writes. */
  const queueEvents = () => {
    if (events.length === 0) return;
    const { text, values } = eventsStatement(events);
    events = [];
    emitted = true;
    deferred.push({ query: statement(text, toWireValues(values)) });
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
    write: (text, values) => tx.deferRead(text, values),
    async load(...loads) {
      const leading = loads.slice(0, -1).map(({ text, values }) => tx.deferRead(text, values));
      const last = loads[loads.length - 1];
      const own = last ? [await tx.query(last.text, last.values)] : [];
      const results = [...(await Promise.all(leading.map((pending) => pending.result()))), ...own];
      return results.map((result, index) => loads[index]!.read(result)) as Loaded<typeof loads>;
    },
    emit(event) {
      refuseAfterCommit();
      const withId = withEventId(event);
      events.push(withId);
      return { id: withId.id };
    },
    async flush() {
      queueEvents();
      if (deferred.length > 0) await sendDeferred(false);
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
      queueEvents();
      if (deferred.length > 0) await sendDeferred(true);
      else if (state === 'open') await client.query('COMMIT');
      return { emitted };
    },
    close() {
      closed = true;
      events = [];
      for (const entry of deferred) entry.answer?.reject(new Error('This transaction is over'));
      deferred = [];
    },
  };
}
