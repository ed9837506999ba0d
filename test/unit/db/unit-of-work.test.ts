/**
 * The unit of work (src/db/unit-of-work.ts, ADR 4) on a real PostgreSQL database: queued writes and emitted
 * events commit together or not at all, events are written in the order emitted, a load runs its
 * statements one after another, and the doorbell rings only after a commit that wrote events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Load } from '../../../src/db/client.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import type { OutboxEvent } from '../../../src/outbox/event-writer.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

let database: TestDatabase;
let merchantId: string;

beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 2 });
  await database.db.query('CREATE TABLE uow_notes (id int PRIMARY KEY, note text NOT NULL)');
  const { merchant } = await database.db.transaction((tx) =>
    createMerchantWithCredentials(tx, { name: 'Shop', livemode: false }),
  );
  merchantId = merchant.id;
});
afterAll(() => database.close());

const event = (n: number): OutboxEvent => ({
  merchantId,
  livemode: false,
  type: 'order.updated',
  objectId: `obj_${n}`,
  data: { n },
});

const eventsOf = async (ids: string[]) =>
  (
    await database.db.query<{ id: string; n: number }>(
      `SELECT id, (data->>'n')::int AS n FROM events WHERE id = ANY($1) ORDER BY seq`,
      [ids],
    )
  ).rows;

const note = (id: number): Load<string | undefined> => ({
  text: 'SELECT note FROM uow_notes WHERE id = $1',
  values: [id],
  read: (result) => (result.rows[0] as { note: string } | undefined)?.note,
});

describe('unit of work', () => {
  it('commits queued writes and emitted events together, the events in the order emitted', async () => {
    let rings = 0;
    const stop = database.db.onEventsCommitted(() => (rings += 1));
    try {
      const ids = await database.db.transaction(async (uow) => {
        const written = uow.write<{ id: number }>(
          'INSERT INTO uow_notes (id, note) VALUES ($1, $2) RETURNING id',
          [1, 'one'],
        );
        const emitted = [3, 1, 2].map((n) => uow.emit(event(n)).id);
        expect(rings).toBe(0);
        return { emitted, written };
      });
      expect((await ids.written.result()).rows).toEqual([{ id: 1 }]);
      expect((await eventsOf(ids.emitted)).map((row) => row.n)).toEqual([3, 1, 2]);
      expect((await eventsOf(ids.emitted)).map((row) => row.id)).toEqual(ids.emitted);
      expect(rings).toBe(1);

      await database.db.transaction(async (uow) => {
        uow.write('INSERT INTO uow_notes (id, note) VALUES ($1, $2)', [2, 'two']);
      });
      expect(rings).toBe(1); // no events, no ring
    } finally {
      stop();
    }
  });

  it('commits nothing when a queued write fails at COMMIT, and rings nothing', async () => {
    let rings = 0;
    const stop = database.db.onEventsCommitted(() => (rings += 1));
    let emitted = '';
    try {
      await expect(
        database.db.transaction(async (uow) => {
          uow.write('INSERT INTO uow_notes (id, note) VALUES ($1, $2)', [10, 'ten']);
          emitted = uow.emit(event(10)).id;
          uow.write('INSERT INTO uow_notes (id, note) VALUES ($1, $2)', [1, 'taken']); // primary key taken
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await eventsOf([emitted])).toEqual([]);
      expect((await database.db.query('SELECT 1 FROM uow_notes WHERE id = 10')).rowCount).toBe(0);
      expect(rings).toBe(0);
    } finally {
      stop();
    }
  });

  it('a load answers each statement in order, each seeing what the ones before it did', async () => {
    const [before, after] = await database.db.transaction(async (uow) => {
      uow.write('UPDATE uow_notes SET note = $2 WHERE id = $1', [2, 'changed']);
      return uow.load(note(2), note(1));
    });
    expect([before, after]).toEqual(['changed', 'one']);
  });

  it('flush writes what is queued, so the work can read its own events back before COMMIT', async () => {
    const seen = await database.db.transaction(async (uow) => {
      const { id } = uow.emit(event(20));
      await uow.flush();
      return (await uow.query('SELECT count(*)::int AS n FROM events WHERE id = $1', [id])).rows[0];
    });
    expect(seen).toEqual({ n: 1 });
  });
});
