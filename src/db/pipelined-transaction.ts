import { createRequire } from 'node:module';
import pg from 'pg';

// pg's own mapping of parameters to wire values, the one Query.prepare uses (pg exports lib/*; untyped).
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): unknown;
};

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
 * The same way, statements the transaction's work deferred (`tx.defer`: their results are not needed) travel
 * ahead of the next statement. Each is a prepared statement this connection has already parsed, so it costs
 * only Bind/Describe/Execute; its failure stops everything after it, like BEGIN's would.
 *
 * This extends `pg.Query` through `prepare()` and `_getRows()`, which `pg` calls to write a query's messages
 * (with the socket corked); `test/unit/db/pipelined-transaction.test.ts` pins the behaviour on the `pg`
 * version in the lockfile.
 */

/**
 * A command sent ahead of a statement in its round trip: a plain command such as `BEGIN`, or a prepared
 * statement already parsed on the connection, with its parameters already in wire form (`toWireValues`).
 */
export type LeadingCommand = string | { name: string; values: unknown[] };

/**
 * Parameters as `pg` would send them (Dates, objects as JSON, arrays, …). Deferred statements are mapped when
 * they are queued, so a value that cannot be sent fails there, in the caller, not in the middle of a write.
 */
export function toWireValues(values: unknown[] | undefined): unknown[] {
  return (values ?? []).map((value) => prepareValue(value));
}
class PipelinedQuery extends pg.Query {
  readonly #before: readonly LeadingCommand[];
  readonly #after: string | undefined;
  readonly #named: boolean;

  constructor(
    statement: pg.QueryConfig,
    around: { before: readonly LeadingCommand[]; after?: string | undefined },
    callback: (error: Error | null, results: pg.QueryResult | pg.QueryResult[]) => void,
  ) {
    // A named statement not yet parsed on the connection gets its Parse BEFORE the leading commands (see
    // prepare()); that is only possible after a plain BEGIN, since BEGIN ISOLATION LEVEL must precede any
    // statement's analysis. Such a rare opening sends its statement unnamed instead.
    const first = around.before[0];
    const name = typeof first !== 'string' || first === 'BEGIN' ? statement.name : undefined;
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
    if (before.length === 0) return queryPrototype.prepare.call(this, connection);
    const sendLeading = () => {
      for (const command of before) {
        if (typeof command === 'string') sendCommand(connection, command);
        else sendPrepared(connection, command);
      }
    };
    if (!this.#named) {
      sendLeading();
      return queryPrototype.prepare.call(this, connection);
    }
    let opened = false;
    const open = () => {
      if (!opened) sendLeading();
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
  describe(message: { type: 'P'; name: string }): void;
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

/** Describe too: a statement with RETURNING sends rows, which `pg` can only read after a RowDescription. */
function sendPrepared(connection: PgConnection, command: { name: string; values: unknown[] }) {
  connection.bind({ statement: command.name, values: command.values });
  connection.describe({ type: 'P', name: '' });
  connection.execute({ portal: '', rows: 0 });
}

/** Whether `name` is a prepared statement `client`'s connection has parsed (with this text). */
export function isParsedOn(client: pg.ClientBase, name: string | undefined, text: string): boolean {
  const parsed = (client as unknown as { connection?: { parsedStatements?: Record<string, string> } })
    .connection?.parsedStatements;
  return name !== undefined && parsed?.[name] === text;
}

/**
 * Runs `statement` with the commands `before` it (BEGIN, deferred statements) and/or `after` it (COMMIT) in the
 * same round trip. Answers with every command's result, in order: each completes with one of its own.
 */
export function queryWithin(
  client: pg.ClientBase,
  around: { before: readonly LeadingCommand[]; after?: string | undefined },
  statement: pg.QueryConfig,
): Promise<pg.QueryResult[]> {
  return new Promise((resolve, reject) => {
    client.query(
      new PipelinedQuery(statement, around, (error, results) => {
        if (error) return reject(error);
        resolve(Array.isArray(results) ? results : [results]);
      }) as unknown as pg.QueryConfig,
    );
  });
}
