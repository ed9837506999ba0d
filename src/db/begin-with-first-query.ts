import pg from 'pg';

/**
 * Sends `BEGIN` and a transaction's first statement to the server in ONE write, so opening a transaction
 * costs no round trip of its own. On this kind of machine a round trip (a socket write and the wake-up of
 * the other side) costs more than most of our statements, and every transaction used to pay one for `BEGIN`.
 *
 * How: PostgreSQL's extended protocol lets a client send several Parse/Bind/Execute groups before one Sync
 * (what libpq's pipeline mode does). `BEGIN` runs first, so the statement after it, and everything later on
 * the connection, is inside the transaction; if the statement fails, the server skips to the Sync and the
 * transaction is left aborted for the caller's ROLLBACK, exactly as if the two had been sent one by one.
 * Both commands complete before the one ReadyForQuery, so `pg` collects two results; the caller gets the
 * statement's.
 *
 * This extends `pg.Query` through `prepare(connection)`, which `pg` calls to write a query's messages (with
 * the socket corked); `test/unit/db/begin-with-first-query.test.ts` pins the behaviour on the `pg` version
 * in the lockfile.
 */
class BeginThenQuery extends pg.Query {
  readonly #begin: string;

  constructor(
    begin: string,
    text: string,
    values: unknown[] | undefined,
    callback: (error: Error | null, results: pg.QueryResult | pg.QueryResult[]) => void,
  ) {
    // `extended` so that a statement without parameters still goes through prepare() below.
    super({ text, values, queryMode: 'extended', callback } as pg.QueryConfig & { callback: unknown });
    this.#begin = begin;
  }

  prepare(connection: PgConnection): void {
    connection.parse({ text: this.#begin });
    connection.bind({});
    connection.execute({});
    (pg.Query.prototype as unknown as { prepare(connection: PgConnection): void }).prepare.call(
      this,
      connection,
    );
  }
}

type PgConnection = {
  parse(message: { text: string }): void;
  bind(message: object): void;
  execute(message: object): void;
};

export function queryAfterBegin<Row extends pg.QueryResultRow>(
  client: pg.ClientBase,
  begin: string,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<Row>> {
  return new Promise((resolve, reject) => {
    client.query(
      new BeginThenQuery(begin, text, values, (error, results) => {
        if (error) return reject(error);
        // [BEGIN's result, the statement's result]
        const all = Array.isArray(results) ? results : [results];
        resolve(all[all.length - 1] as pg.QueryResult<Row>);
      }) as unknown as pg.QueryConfig,
    );
  });
}
