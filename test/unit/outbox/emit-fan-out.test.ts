/**
 * Fan-out at emit time, on a real PostgreSQL database: `emitEvents` writes the events already fanned out
 * together with their webhook deliveries, in the caller's transaction — so a delivery exists exactly when
 * the business change committed, and the outbox worker never rewrites those events. The endpoint rules
 * are the worker's (merchant, mode, enabled, not deleted, event-type filter, `ping` to its endpoint only).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, hasIdPrefix } from '../../../src/lib/ids.ts';
import { createKeyring } from '../../../src/lib/keyring.ts';
import { emitEvent, emitEvents } from '../../../src/modules/events/event.repository.ts';
import type { NewEvent } from '../../../src/modules/events/event.types.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { insertWebhookEndpoint } from '../../../src/modules/webhooks/webhook-endpoint.repository.ts';
import { fanOutPendingEvents } from '../../../src/outbox/fan-out.repository.ts';
import { claimDueDeliveries } from '../../../src/outbox/webhook-delivery.repository.ts';
import { generateWebhookSecret } from '../../../src/outbox/webhook-signer.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

let database: TestDatabase;
const keyring = createKeyring(randomBytes(32));

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

type Scope = { merchantId: string; livemode: boolean };

async function newMerchant(): Promise<Scope> {
  const { merchant } = await database.db.transaction((tx) =>
    createMerchantWithCredentials(tx, { name: 'Shop', livemode: false }),
  );
  return { merchantId: merchant.id, livemode: false };
}

async function addEndpoint(
  scope: Scope,
  options: { enabledEvents?: string[]; status?: 'enabled' | 'disabled'; path?: string } = {},
) {
  return insertWebhookEndpoint(database.db, {
    id: newId('whe'),
    scope,
    url: `http://127.0.0.1:9/${options.path ?? 'hook'}`,
    description: null,
    enabledEvents: options.enabledEvents ?? ['*'],
    status: options.status ?? 'enabled',
    secretEncrypted: keyring.encrypt('webhook-secret-encryption', generateWebhookSecret()),
  });
}

function event(scope: Scope, type: NewEvent['type'], data: Record<string, unknown> = { n: 1 }): NewEvent {
  return { merchantId: scope.merchantId, livemode: scope.livemode, type, objectId: 'chk_x', data };
}

async function deliveriesOf(eventIds: string[]) {
  const { rows } = await database.db.query<{
    id: string;
    event_id: string;
    endpoint_id: string;
    origin: string;
    status: string;
    attempt_count: number;
    lease_token: string | null;
  }>(
    `SELECT id, event_id, endpoint_id, origin, status, attempt_count, lease_token
       FROM webhook_deliveries WHERE event_id = ANY ($1) ORDER BY event_id, endpoint_id`,
    [eventIds],
  );
  return rows;
}

describe('emitEvents fans out in the same statement', () => {
  it('writes the delivery in the business transaction, visible there before the commit', async () => {
    const scope = await newMerchant();
    const endpoint = await addEndpoint(scope);
    const seenInside = await database.db.transaction(async (tx) => {
      const { id } = await emitEvent(tx, event(scope, 'checkout.created'));
      const { rows } = await tx.query<{ endpoint_id: string; fanout_state: string }>(
        `SELECT d.endpoint_id, ev.fanout_state FROM events ev JOIN webhook_deliveries d ON d.event_id = ev.id
          WHERE ev.id = $1`,
        [id],
      );
      return { id, rows };
    });
    expect(seenInside.rows).toEqual([{ endpoint_id: endpoint.id, fanout_state: 'done' }]);
    const [delivery] = await deliveriesOf([seenInside.id]);
    expect(delivery).toMatchObject({
      endpoint_id: endpoint.id,
      origin: 'event',
      status: 'pending',
      attempt_count: 0,
      lease_token: null,
    });
    expect(hasIdPrefix(delivery!.id, 'del')).toBe(true);
    // Made in SQL, time-led like newId: its time part is the moment of the fan-out.
    expect(delivery!.id).toMatch(/^del_[0-9a-f]{44}$/);
    expect(Math.abs(Number.parseInt(delivery!.id.slice(4, 16), 16) - Date.now())).toBeLessThan(60_000);
    // Nothing is left for the worker's fan-out, and the claim loop finds the delivery as due.
    expect((await fanOutPendingEvents(database.db, 100)).events).toBe(0);
    const claimed = await claimDueDeliveries(database.db, { limit: 100, leaseSeconds: 30, leaseToken: 'x' });
    expect(claimed.filter((c) => c.eventId === seenInside.id)).toMatchObject([
      { endpointId: endpoint.id, eventType: 'checkout.created', eventDataJson: '{"n":1}', attemptNumber: 1 },
    ]);
  });

  it('leaves neither event nor delivery when the business transaction rolls back', async () => {
    const scope = await newMerchant();
    await addEndpoint(scope);
    let eventIds: string[] = [];
    const rolledBack = database.db.transaction(async (tx) => {
      eventIds = (
        await emitEvents(tx, [event(scope, 'checkout.created'), event(scope, 'order.created')])
      ).map((e) => e.id);
      expect(
        (await tx.query('SELECT 1 FROM webhook_deliveries WHERE event_id = ANY ($1)', [eventIds])).rowCount,
      ).toBe(2);
      throw new Error('the business change failed');
    });
    await expect(rolledBack).rejects.toThrow('the business change failed');
    expect(eventIds).toHaveLength(2);
    const { rows } = await database.db.query('SELECT id FROM events WHERE id = ANY ($1)', [eventIds]);
    expect(rows).toEqual([]);
    expect(await deliveriesOf(eventIds)).toEqual([]);
  });

  it('follows the endpoint rules: type filter, status, deletion, merchant, mode', async () => {
    const scope = await newMerchant();
    const other = await newMerchant();
    const everything = await addEndpoint(scope, { path: 'all' });
    const paymentsOnly = await addEndpoint(scope, { enabledEvents: ['payment.succeeded'], path: 'payments' });
    await addEndpoint(scope, { status: 'disabled', path: 'disabled' });
    const deleted = await addEndpoint(scope, { path: 'deleted' });
    await database.db.query('UPDATE webhook_endpoints SET deleted_at = now() WHERE id = $1', [deleted.id]);
    await addEndpoint({ ...scope, livemode: true }, { path: 'live' });
    await addEndpoint(other, { path: 'other-merchant' });

    const [checkout, payment] = await database.db.transaction((tx) =>
      emitEvents(tx, [event(scope, 'checkout.created'), event(scope, 'payment.succeeded')]),
    );
    const deliveries = await deliveriesOf([checkout!.id, payment!.id]);
    const pairs = deliveries.map((d) => `${d.event_id} ${d.endpoint_id}`).sort();
    expect(pairs).toEqual(
      [
        `${checkout!.id} ${everything.id}`,
        `${payment!.id} ${everything.id}`,
        `${payment!.id} ${paymentsOnly.id}`,
      ].sort(),
    );
  });

  it('sends a ping only to the endpoint it names', async () => {
    const scope = await newMerchant();
    const tested = await addEndpoint(scope, { path: 'tested' });
    await addEndpoint(scope, { path: 'bystander' });
    const { id } = await database.db.transaction((tx) =>
      emitEvent(tx, event(scope, 'ping', { webhook_endpoint_id: tested.id })),
    );
    expect((await deliveriesOf([id])).map((d) => d.endpoint_id)).toEqual([tested.id]);
  });

  it('writes events without deliveries, already done, when the merchant has no endpoint', async () => {
    const scope = await newMerchant();
    const { id } = await database.db.transaction((tx) => emitEvent(tx, event(scope, 'order.created')));
    const { rows } = await database.db.query('SELECT fanout_state FROM events WHERE id = $1', [id]);
    expect(rows).toEqual([{ fanout_state: 'done' }]);
    expect(await deliveriesOf([id])).toEqual([]);
  });
});

describe('the worker fan-out of events written by other paths', () => {
  it('returns the first deliveries leased with their payload, the rest due for the claim loop', async () => {
    const scope = await newMerchant();
    const endpoints = [await addEndpoint(scope, { path: 'a' }), await addEndpoint(scope, { path: 'b' })];
    const { rows: inserted } = await database.db.query<{ id: string }>(
      `INSERT INTO events (id, merchant_id, livemode, type, object_id, data)
       SELECT 'evt_' || md5(random()::text || g), $1, false, 'checkout.updated', 'chk_x', jsonb_build_object('n', g)
         FROM generate_series(1, 3) AS g RETURNING id`,
      [scope.merchantId],
    );
    const fanned = await fanOutPendingEvents(database.db, 100, { count: 4, seconds: 30, token: 'lease-f' });
    expect(fanned).toMatchObject({ events: 3, deliveries: 6 });
    expect(fanned.leased).toHaveLength(4);
    expect(fanned.leased.every((d) => d.leaseToken === 'lease-f' && d.attemptNumber === 1)).toBe(true);
    expect(new Set(fanned.leased.map((d) => d.endpointId))).toEqual(new Set(endpoints.map((e) => e.id)));
    const deliveries = await deliveriesOf(inserted.map((e) => e.id));
    expect(deliveries).toHaveLength(6);
    const leasedRows = deliveries.filter((d) => d.lease_token === 'lease-f');
    expect(leasedRows.map((d) => d.id).sort()).toEqual(fanned.leased.map((d) => d.id).sort());
    expect(leasedRows.every((d) => d.attempt_count === 1)).toBe(true);
    for (const leased of fanned.leased) {
      const row = deliveries.find((d) => d.id === leased.id)!;
      expect(row.event_id).toBe(leased.eventId);
      expect(leased.eventType).toBe('checkout.updated');
      expect(leased.url).toBe(endpoints.find((e) => e.id === leased.endpointId)!.url);
    }
    const unleased = deliveries.filter((d) => d.lease_token === null);
    expect(unleased.every((d) => d.attempt_count === 0 && d.status === 'pending')).toBe(true);
    expect(unleased).toHaveLength(2);
  });
});
