import pg from 'pg';

/**
 * Sends a transaction's `BEGIN` together with its first statement, and its `COMMIT` together with its last
 * when the caller knows which that is, so opening and closing a transaction cost no round trips of their own.
 * On this kind of machine a round trip (a socket write and the wake-up of the other side) costs more than
 * most of our statements, and every transaction used to pay two extra ones.
 *
 * How: PostgreSQL's extended protocol lets a client send several Parse/Bind/Execute groups before one Sync
 * (what libpq's pipeline mode does). They run in order: `BEGIN` first, so the statement after it is inside
 * the transaction. If the statement fails, the server skips everything up to the Sync — a `COMMIT` after it
 * never runs — and the transaction is left aborted for the caller's ROLLBACK, exactly as if the commands had
 * been sent one by one. Every command completes before the one ReadyForQuery, so `pg` collects one result
 * per command; the caller gets the statement's.
 *
 * This extends `pg.Query` through `prepare()` and `_getRows()`, which `pg` calls to write a query's messages
 * (with the socket corked); `test/unit/db/pipelined-transaction.test.ts` pins the behaviour on the `pg`
 * version in the lockfile.
 */
class PipelinedQuery extends pg.Query {
  readonly #before: string | undefined;
  readonly #after: string | undefined;
  readonly #named: boolean;

  constructor(
    statement: pg.QueryConfig,
    around: { before?: string | undefined; after?: string | undefined },
    callback: (error: Error | null, results: pg.QueryResult | pg.QueryResult[]) => void,
  ) {
    // A named statement not yet parsed on the connection gets its Parse BEFORE the opening command (see
    // prepare()); that is only possible for a plain BEGIN, since BEGIN ISOLATION LEVEL must precede any
    // statement's analysis. Such a rare opening sends its statement unnamed instead.
    const name = around.before === undefined || around.before === 'BEGIN' ? statement.name : undefined;
    // `extended` so that a statement without parameters still goes through prepare() below.
    super({ ...statement, name, queryMode: 'extended', callback } as pg.QueryConfig & { callback: unknown });
    this.#before = around.before;
    this.#after = around.after;
    this.#named = Boolean(name);
  }

  /**
   * pg writes Parse (unless this connection has parsed the named statement before), Bind, Describe, then
   * `_getRows` (Execute, Sync). The opening command must run before Bind. For a named statement it goes
   * AFTER the statement's own Parse: pg marks a name as parsed on the first ParseComplete that arrives while
   * the query is active, so an earlier BEGIN's ParseComplete would mark a statement whose Parse then failed.
   * (A Parse ahead of BEGIN runs in the implicit transaction that BEGIN then makes explicit.) An unnamed
   * statement must come after BEGIN: BEGIN's own Parse would replace the unnamed statement.
   */
  prepare(connection: PgConnection): void {
    const before = this.#before;
    if (before === undefined) return queryPrototype.prepare.call(this, connection);
    if (!this.#named) {
      sendCommand(connection, before);
      return queryPrototype.prepare.call(this, connection);
    }
    let opened = false;
    const open = () => {
      if (!opened) sendCommand(connection, before);
      opened = true;
    };
    const relay: PgConnection = Object.create(connection, {
      parse: { value: (message: { text: string }) => (connection.parse(message), open()) },
      bind: { value: (message: object) => (open(), connection.bind(message)) },
    });
    queryPrototype.prepare.call(this, relay);
  }

  /** pg's last step of prepare(): Execute, then Sync. The closing command goes between the two. */
  _getRows(connection: PgConnection, rows: number | undefined): void {
    if (this.#after === undefined || rows) return queryPrototype._getRows.call(this, connection, rows);
    connection.execute({ portal: '', rows: 0 });
    sendCommand(connection, this.#after);
    connection.sync();
  }
}

type PgConnection = {
  parse(message: { text: string }): void;
  bind(message: object): void;
  execute(message: { portal: string; rows: number }): void;
  sync(): void;
};

const queryPrototype = pg.Query.prototype as unknown as {
  prepare(this: PipelinedQuery, connection: PgConnection): void;
  _getRows(this: PipelinedQuery, connection: PgConnection, rows: number | undefined): void;
};

function sendCommand(connection: PgConnection, text: string) {
  connection.parse({ text });
  connection.bind({});
  connection.execute({ portal: '', rows: 0 });
}

/** Runs `statement` with `before` (e.g. BEGIN) and/or `after` (e.g. COMMIT) in the same round trip. */
export function queryWithin<Row extends pg.QueryResultRow>(
  client: pg.ClientBase,
  around: { before?: string | undefined; after?: string | undefined },
  statement: pg.QueryConfig,
): Promise<pg.QueryResult<Row>> {
  return new Promise((resolve, reject) => {
    client.query(
      new PipelinedQuery(statement, around, (error, results) => {
        if (error) return reject(error);
        const all = Array.isArray(results) ? results : [results];
        resolve(all[around.before === undefined ? 0 : 1] as pg.QueryResult<Row>);
      }) as unknown as pg.QueryConfig,
    );
  });
}
