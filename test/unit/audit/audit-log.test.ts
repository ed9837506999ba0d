/**
 * The audit trail's storage (src/modules/audit): `recordAudit` inside a transaction commits with the change
 * or not at all, on the pool it writes at once, and a merchant's entries list newest first with cursor
 * paging that never crosses to another merchant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEntries, recordAudit } from '../../../src/modules/audit/audit.service.ts';
import { createMerchantWithCredentials } from '../../../src/modules/merchants/merchant.service.ts';
import { createTestDatabase, type TestDatabase } from '../../fixtures/database.ts';

let database: TestDatabase;
let merchantId: string;
let otherMerchantId: string;

beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 2 });
  const make = (name: string) =>
    database.db.transaction((tx) => createMerchantWithCredentials(tx, { name, livemode: false }));
  merchantId = (await make('Shop')).merchant.id;
  otherMerchantId = (await make('Other')).merchant.id;
});
afterAll(() => database.close());

const actor = { type: 'credential' as const, id: 'key_0123456789abcdef0123456789abcdef', label: 'abcd' };

describe('audit log', () => {
  it('writes an entry with the change, and none when the transaction fails', async () => {
    await database.db.transaction(async (tx) => {
      await recordAudit(tx, {
        merchantId,
        actor,
        action: 'api_key.created',
        objectType: 'api_key',
        objectId: 'key_1',
        clientAddress: '127.0.0.1',
        details: { key_hint: 'sk_test_…abcd' },
      });
    });
    await expect(
      database.db.transaction(async (tx) => {
        await recordAudit(tx, { merchantId, actor, action: 'api_key.revoked', objectId: 'key_1' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const entries = await listAuditEntries(database.db, merchantId, { limit: 10 });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      id: expect.stringMatching(/^aud_[0-9a-f]{44}$/),
      merchantId,
      actor,
      action: 'api_key.created',
      objectType: 'api_key',
      objectId: 'key_1',
      clientAddress: '127.0.0.1',
      details: { key_hint: 'sk_test_…abcd' },
    });
    expect(entries[0]!.createdAt).toBeInstanceOf(Date);
  });

  it('writes on the pool at once, with a null merchant for what concerns none', async () => {
    await recordAudit(database.db, {
      merchantId: null,
      actor: { type: 'system', id: 'cli' },
      action: 'signing_key.rotated',
    });
    const global = await listAuditEntries(database.db, null, { limit: 10 });
    expect(global.map((entry) => entry.action)).toEqual(['signing_key.rotated']);
    expect(global[0]!.actor).toEqual({ type: 'system', id: 'cli' });
  });

  it('refuses an action that is not dotted lower-case', async () => {
    await expect(recordAudit(database.db, { merchantId, actor, action: 'ApiKeyCreated' })).rejects.toThrow(
      /dotted/,
    );
  });

  it('lists newest first with cursor paging, never another merchant’s entries', async () => {
    for (let n = 0; n < 5; n += 1) {
      await recordAudit(database.db, {
        merchantId: otherMerchantId,
        actor: { type: 'user', id: 'usr_1', label: 'ops@example.com' },
        action: n % 2 === 0 ? 'user.signed_in' : 'user.sign_in_failed',
        details: { n },
      });
    }
    const first = await listAuditEntries(database.db, otherMerchantId, { limit: 2 });
    expect(first.map((entry) => entry.details.n)).toEqual([4, 3, 2]);
    const second = await listAuditEntries(database.db, otherMerchantId, {
      limit: 2,
      startingAfter: first[1]!.id,
    });
    expect(second.map((entry) => entry.details.n)).toEqual([2, 1, 0]);
    // A cursor from another merchant's list is refused (400 invalid_cursor), never that merchant's neighbours.
    await expect(
      listAuditEntries(database.db, merchantId, { limit: 2, startingAfter: first[0]!.id }),
    ).rejects.toMatchObject({ code: 'invalid_cursor' });
    const failed = await listAuditEntries(
      database.db,
      otherMerchantId,
      { limit: 10 },
      {
        action: 'user.sign_in_failed',
      },
    );
    expect(failed.map((entry) => entry.details.n)).toEqual([3, 1]);
    const users = await listAuditEntries(database.db, otherMerchantId, { limit: 10 }, { action: 'user.*' });
    expect(users).toHaveLength(5);
    expect(await listAuditEntries(database.db, merchantId, { limit: 10 }, { action: 'user.*' })).toEqual([]);
  });
});
