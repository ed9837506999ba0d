import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStatementNames, PLANNED_PER_CALL, type Queryable } from '../../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

/**
 * `db.transaction` sends BEGIN together with the first statement, and COMMIT with the last one when the work
 * uses `commitWith` (src/db/pipelined-transaction.ts). These pin that this behaves exactly like sending the
 * commands one by one, on the `pg` version in the lockfile.
 * One pooled connection, so every test also checks that the connection is left clean for the next.
 */
describe('BEGIN sent with the first statement of a transaction', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 1 });
    await database.db.query('CREATE TABLE pipelined (id int PRIMARY KEY, note text)');
  });
  afterAll(() => database.close());

  /** Whether the pooled connection was left inside a transaction, seen from another connection. */
  const inTransaction = async () => {
    const probe = new pg.Client({ connectionString: database.connectionString });
    await probe.connect();
    try {
      const { rows } = await probe.query<{ open: boolean }>(
        `SELECT count(*) > 0 AS open FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`,
      );
      return { rows };
    } finally {
      await probe.end();
    }
  };

  it('answers the first statement with its own result: rows, RETURNING, row counts, no parameters', async () => {
    const result = await database.db.transaction(async (tx) => {
      const first = await tx.query<{ id: number; note: string }>(
        'INSERT INTO pipelined (id, note) VALUES ($1, $2), ($3, $4) RETURNING id, note',
        [1, 'a', 2, 'b'],
      );
      const second = await tx.query('UPDATE pipelined SET note = $1 WHERE id = 1', ['c']);
      return { first, second };
    });
    expect(result.first.rows).toEqual([
      { id: 1, note: 'a' },
      { id: 2, note: 'b' },
    ]);
    expect(result.first.rowCount).toBe(2);
    expect(result.first.command).toBe('INSERT');
    expect(result.second.rowCount).toBe(1);

    const plain = await database.db.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'));
    expect(plain.rows).toEqual([{ one: 1 }]);
    const noRows = await database.db.transaction((tx) => tx.query('DELETE FROM pipelined WHERE id = 99'));
    expect(noRows.rowCount).toBe(0);
  });

  it('runs the first statement inside the transaction: its effect is rolled back with the rest', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await tx.query('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [10, 'first']);
        await tx.query('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [11, 'second']);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rowCount } = await database.db.query('SELECT 1 FROM pipelined WHERE id IN (10, 11)');
    expect(rowCount).toBe(0);
  });

  it('opens the transaction with the requested isolation level before the first statement', async () => {
    const level = await database.db.transaction(
      (tx) => tx.query<{ level: string }>(`SELECT current_setting('transaction_isolation') AS level`),
      { isolation: 'serializable' },
    );
    expect(level.rows[0]?.level).toBe('serializable');
    // Both statements see one snapshot: the same transaction.
    const times = await database.db.transaction(async (tx) => {
      const a = await tx.query<{ at: Date }>('SELECT now() AS at');
      await tx.query('SELECT pg_sleep(0.01)');
      const b = await tx.query<{ at: Date }>('SELECT now() AS at');
      return [a.rows[0]!.at.getTime(), b.rows[0]!.at.getTime()];
    });
    expect(times[0]).toBe(times[1]);
  });

  it('reports a failing first statement with its SQLSTATE and leaves the connection usable', async () => {
    await database.db.query(`INSERT INTO pipelined (id, note) VALUES (20, 'taken')`);
    await expect(
      database.db.transaction((tx) =>
        tx.query('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [20, 'x']),
      ),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      database.db.transaction((tx) => tx.query('SELECT * FROM no_such_table')),
    ).rejects.toMatchObject({ code: '42P01' });
    expect((await inTransaction()).rows[0]?.open).toBe(false);
    const after = await database.db.transaction((tx) => tx.query<{ n: number }>('SELECT 2 AS n'));
    expect(after.rows).toEqual([{ n: 2 }]);
  });

  it('sends nothing for work that runs no statement', async () => {
    await expect(database.db.transaction(async () => 'nothing')).resolves.toBe('nothing');
    await expect(
      database.db.transaction(async () => {
        throw new Error('before any statement');
      }),
    ).rejects.toThrow('before any statement');
    expect((await inTransaction()).rows[0]?.open).toBe(false);
  });

  it('commitWith commits with the last statement, and a transaction of one statement is one round trip', async () => {
    const returned = await database.db.transaction(async (tx) => {
      await tx.query('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [30, 'one']);
      return tx.commitWith<{ id: number }>('INSERT INTO pipelined (id, note) VALUES ($1, $2) RETURNING id', [
        31,
        'two',
      ]);
    });
    expect(returned.rows).toEqual([{ id: 31 }]);
    const single = await database.db.transaction((tx) =>
      tx.commitWith('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [32, 'alone']),
    );
    expect(single.rowCount).toBe(1);
    const { rows } = await database.db.query<{ id: number }>(
      'SELECT id FROM pipelined WHERE id BETWEEN 30 AND 39 ORDER BY id',
    );
    expect(rows.map((row) => row.id)).toEqual([30, 31, 32]);
    expect((await inTransaction()).rows[0]?.open).toBe(false);
  });

  it('commits nothing when the statement given to commitWith fails', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await tx.query('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [40, 'before']);
        await tx.commitWith('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [40, 'duplicate']);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      database.db.transaction((tx) => tx.commitWith('INSERT INTO pipelined (id) VALUES (1 / 0)')),
    ).rejects.toMatchObject({ code: '22012' });
    const { rowCount } = await database.db.query('SELECT 1 FROM pipelined WHERE id = 40');
    expect(rowCount).toBe(0);
    expect((await inTransaction()).rows[0]?.open).toBe(false);
  });

  it('refuses statements after commitWith', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        await tx.commitWith('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [50, 'committed']);
        await tx.query('INSERT INTO pipelined (id, note) VALUES ($1, $2)', [51, 'too late']);
      }),
    ).rejects.toThrow('already been committed');
    const { rows } = await database.db.query<{ id: number }>('SELECT id FROM pipelined WHERE id IN (50, 51)');
    expect(rows).toEqual([{ id: 50 }]);
  });

  it('a statement whose first Parse failed is parsed again next time (not taken for prepared)', async () => {
    const text = 'SELECT count(*)::int AS n FROM created_later';
    await expect(database.db.transaction((tx) => tx.query(text))).rejects.toMatchObject({ code: '42P01' });
    await database.db.query('CREATE TABLE created_later (id int)');
    const inTx = await database.db.transaction((tx) => tx.query<{ n: number }>(text));
    expect(inTx.rows).toEqual([{ n: 0 }]);
    const alone = await database.db.query<{ n: number }>(text);
    expect(alone.rows).toEqual([{ n: 0 }]);
  });
});

describe('deferred statements (tx.defer): sent with the next statement of the transaction', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 1 });
    await database.db.query(
      'CREATE TABLE deferred (id int PRIMARY KEY, note text, at timestamptz, doc jsonb)',
    );
  });
  afterAll(() => database.close());

  const insert = 'INSERT INTO deferred (id, note, at, doc) VALUES ($1, $2, $3, $4)';
  const ids = async (from: number, to: number) =>
    (
      await database.db.query<{ id: number }>(
        'SELECT id FROM deferred WHERE id BETWEEN $1 AND $2 ORDER BY id',
        [from, to],
      )
    ).rows.map((row) => row.id);
  /** How many queries the work hands to `pg` (each is one round trip), by counting Client#query calls. */
  const countQueries = async <T>(work: () => Promise<T>) => {
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    try {
      const result = await work();
      return { result, queries: spy.mock.calls.length };
    } finally {
      spy.mockRestore();
    }
  };

  it('runs deferred statements in order before the next one, inside the transaction, with wire-mapped values', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const seen = await database.db.transaction(async (tx) => {
      tx.defer(insert, [1, 'first', at, { nested: ['x'] }]);
      tx.defer('UPDATE deferred SET note = note || $2 WHERE id = $1 RETURNING id', [1, '+updated']);
      return tx.query<{ note: string; at: Date; doc: unknown }>(
        'SELECT note, at, doc FROM deferred WHERE id = 1',
      );
    });
    expect(seen.rows).toEqual([{ note: 'first+updated', at, doc: { nested: ['x'] } }]);
    expect(await ids(1, 9)).toEqual([1]);
  });

  it('sends a prepared deferred statement in the same round trip as the next one', async () => {
    // The first use on the connection runs the statement alone (that prepares it)…
    const fresh = `${insert} ON CONFLICT DO NOTHING`; // a text this connection has not seen yet
    const first = await countQueries(() =>
      database.db.transaction(async (tx) => {
        tx.defer(fresh, [10, 'a', null, null]);
        return tx.commitWith('SELECT 1');
      }),
    );
    expect(first.queries).toBe(2);
    // …after which it rides along: one round trip for BEGIN, both statements and COMMIT, and one for a
    // transaction of a deferred statement alone.
    const riding = await countQueries(() =>
      database.db.transaction(async (tx) => {
        tx.defer(fresh, [11, 'b', null, null]);
        return tx.commitWith<{ n: number }>('SELECT count(*)::int AS n FROM deferred WHERE id IN (10, 11)');
      }),
    );
    expect(riding.queries).toBe(1);
    expect(riding.result.rows).toEqual([{ n: 2 }]);
    const atCommit = await countQueries(() =>
      database.db.transaction(async (tx) => {
        tx.defer(fresh, [12, 'c', null, null]);
      }),
    );
    expect(atCommit.queries).toBe(1);
    expect(await ids(10, 19)).toEqual([10, 11, 12]);
  });

  it("fails the next statement with the deferred one's error, and commits nothing", async () => {
    await database.db.transaction((tx) => tx.commitWith(insert, [20, 'taken', null, null]));
    for (const carrier of ['query', 'commitWith', 'none'] as const) {
      await expect(
        database.db.transaction(async (tx) => {
          await tx.query(insert, [21, 'before', null, null]);
          tx.defer(insert, [20, 'duplicate', null, null]);
          if (carrier === 'query') await tx.query(insert, [22, 'after', null, null]);
          if (carrier === 'commitWith') await tx.commitWith(insert, [22, 'after', null, null]);
        }),
      ).rejects.toMatchObject({ code: '23505', constraint: 'deferred_pkey' });
    }
    expect(await ids(20, 29)).toEqual([20]);
    // The connection is usable and outside any transaction.
    const next = await database.db.transaction((tx) => tx.query<{ one: number }>('SELECT 1 AS one'));
    expect(next.rows).toEqual([{ one: 1 }]);
  });

  it('never sends a deferred statement when the work throws', async () => {
    await expect(
      database.db.transaction(async (tx) => {
        tx.defer(insert, [30, 'never', null, null]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await ids(30, 39)).toEqual([]);
  });

  it('works under a requested isolation level, and refuses to defer after commitWith', async () => {
    const level = await database.db.transaction(
      async (tx) => {
        tx.defer(insert, [40, 'serializable', null, null]);
        return tx.query<{ level: string }>(`SELECT current_setting('transaction_isolation') AS level`);
      },
      { isolation: 'serializable' },
    );
    expect(level.rows[0]?.level).toBe('serializable');
    await expect(
      database.db.transaction(async (tx) => {
        await tx.commitWith(insert, [41, 'committed', null, null]);
        tx.defer(insert, [42, 'too late', null, null]);
      }),
    ).rejects.toThrow('already been committed');
    expect(await ids(40, 49)).toEqual([40, 41]);
  });
});

describe('deferred reads (tx.deferRead): a result that travels with the next statement', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ poolMax: 1 });
    await database.db.query('CREATE TABLE lookups (id int PRIMARY KEY, note text)');
    await database.db.query(`INSERT INTO lookups VALUES (1, 'one'), (2, 'two')`);
  });
  afterAll(() => database.close());

  const read = 'SELECT note FROM lookups WHERE id = $1';
  const queriesDuring = async <T>(work: () => Promise<T>) => {
    const spy = vi.spyOn(pg.Client.prototype, 'query');
    try {
      return { result: await work(), queries: spy.mock.calls.length };
    } finally {
      spy.mockRestore();
    }
  };

  it('answers with its own rows once the statement it travelled with has answered, in one round trip', async () => {
    await database.db.transaction((tx) => tx.query(read, [1])); // prepares the read on the one connection
    const { result, queries } = await queriesDuring(() =>
      database.db.transaction(async (tx) => {
        const lookup = tx.deferRead<{ note: string }>(read, [1]);
        const other = await tx.commitWith<{ note: string }>(
          'SELECT note FROM lookups WHERE id = $1 + 1',
          [1],
        );
        return { looked: (await lookup.result()).rows, other: other.rows };
      }),
    );
    expect(result).toEqual({ looked: [{ note: 'one' }], other: [{ note: 'two' }] });
    expect(queries).toBe(1);
  });

  it('sends the read alone when asked before anything carried it; later deferred statements keep waiting', async () => {
    const seen = await database.db.transaction(async (tx) => {
      tx.defer('INSERT INTO lookups VALUES ($1, $2)', [10, 'deferred before']);
      const lookup = tx.deferRead<{ n: number }>(
        'SELECT count(*)::int AS n FROM lookups WHERE id >= $1',
        [10],
      );
      tx.defer('INSERT INTO lookups VALUES ($1, $2)', [11, 'deferred after']);
      const counted = (await lookup.result()).rows[0]!.n;
      const again = await lookup.result(); // the same answer, not a second read
      return { counted, again: again.rows[0]!.n };
    });
    // The read saw the insert deferred before it, not the one after; both were committed.
    expect(seen).toEqual({ counted: 1, again: 1 });
    const { rows } = await database.db.query<{ id: number }>(
      'SELECT id FROM lookups WHERE id >= 10 ORDER BY id',
    );
    expect(rows.map((row) => row.id)).toEqual([10, 11]);
  });

  it('tx.withNext: a repository read that travels with the statement sent right after it, or alone', async () => {
    const findNote = async (db: Queryable, id: number) =>
      (await db.query<{ note: string }>(read, [id])).rows[0]?.note;
    const together = await queriesDuring(() =>
      database.db.transaction(async (tx) =>
        Promise.all([findNote(tx.withNext, 1), tx.commitWith<{ n: number }>('SELECT 2 AS n')]),
      ),
    );
    expect(together.result[0]).toBe('one');
    expect(together.result[1].rows).toEqual([{ n: 2 }]);
    expect(together.queries).toBe(1);
    // Awaited before anything else is sent: it goes alone (the next turn of the event loop), never hangs.
    const alone = await database.db.transaction(async (tx) => findNote(tx.withNext, 2));
    expect(alone).toBe('two');
  });

  it('never sends a deferred read once the work is over: a failed work leaves no stray statement', async () => {
    let late: Promise<unknown> | undefined;
    await expect(
      database.db.transaction(async (tx) => {
        late = tx.withNext.query('INSERT INTO lookups VALUES ($1, $2) RETURNING id', [30, 'too late']);
        throw new Error('failed before sending anything');
      }),
    ).rejects.toThrow('failed before sending anything');
    await expect(late).rejects.toThrow('This transaction is over');
    // The pooled connection served the next transaction without the stray insert.
    await database.db.transaction((tx) => tx.query('SELECT 1'));
    expect((await database.db.query('SELECT 1 FROM lookups WHERE id = 30')).rowCount).toBe(0);
  });

  it('rejects with the error of the statement it travelled with, and the transaction rolls back', async () => {
    let lost: unknown;
    await expect(
      database.db.transaction(async (tx) => {
        const lookup = tx.deferRead(read, [1]);
        tx.defer('INSERT INTO lookups VALUES ($1, $2)', [20, 'rolled back']);
        try {
          await tx.query('INSERT INTO lookups VALUES ($1, $2)', [1, 'duplicate']);
        } finally {
          lost = await lookup.result().catch((error: unknown) => error);
        }
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(lost).toMatchObject({ code: '23505' });
    expect((await database.db.query('SELECT 1 FROM lookups WHERE id = 20')).rowCount).toBe(0);
  });
});

describe('prepared statements and schema changes', () => {
  it('drops a connection whose prepared statement went stale, so the next call prepares afresh', async () => {
    const database = await createTestDatabase({ poolMax: 1 });
    try {
      await database.db.query('CREATE TABLE widened (id int)');
      const text = 'SELECT * FROM widened';
      await database.db.transaction((tx) => tx.query(text));
      await database.db.query('ALTER TABLE widened ADD COLUMN note text'); // another process migrating
      // The server refuses the stale statement once on that connection (PostgreSQL's rule for prepared
      // statements whose result columns changed)…
      await expect(database.db.transaction((tx) => tx.query(text))).rejects.toMatchObject({ code: '0A000' });
      // …and the connection is replaced, not reused.
      const after = await database.db.transaction((tx) => tx.query(text));
      expect(after.fields.map((field) => field.name)).toEqual(['id', 'note']);
    } finally {
      await database.close();
    }
  });
});

describe('statement names (prepared statements per SQL text)', () => {
  it('gives one name per text, and none past the limit', () => {
    const nameOf = createStatementNames(2);
    const first = nameOf('SELECT 1');
    expect(first).toBeDefined();
    expect(nameOf('SELECT 1')).toBe(first);
    expect(nameOf('SELECT 2')).not.toBe(first);
    expect(nameOf('SELECT 3')).toBeUndefined();
    expect(nameOf('SELECT 1')).toBe(first);
  });

  it('leaves statements marked PLANNED_PER_CALL unnamed (planned on every call)', () => {
    const nameOf = createStatementNames();
    expect(nameOf(`${PLANNED_PER_CALL}SELECT id FROM events ORDER BY seq LIMIT $1`)).toBeUndefined();
  });
});
