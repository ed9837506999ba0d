import type { Queryable } from '../../db/client.ts';
import { newId } from '../../lib/ids.ts';
import type { NewEvent, StoredEvent } from './event.types.ts';

/**
 * Writes an event row. MUST be called with the transaction that makes the change it describes — that is
 * what makes the outbox transactional: the event exists if and only if the change committed.
 */
export async function emitEvent(tx: Queryable, event: NewEvent): Promise<{ id: string }> {
  const id = newId('evt');
  await tx.query(
    `INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, order_id, checkout_id, payment_id, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      id,
      event.merchantId,
      event.livemode,
      event.type,
      event.objectId ?? null,
      event.objectVersion ?? null,
      event.orderId ?? null,
      event.checkoutId ?? null,
      event.paymentId ?? null,
      JSON.stringify(event.data),
    ],
  );
  return { id };
}

type EventRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  type: StoredEvent['type'];
  object_id: string | null;
  object_version: number | null;
  order_id: string | null;
  checkout_id: string | null;
  payment_id: string | null;
  data: Record<string, unknown>;
  created_at: Date;
};

export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    type: row.type,
    objectId: row.object_id,
    objectVersion: row.object_version,
    orderId: row.order_id,
    checkoutId: row.checkout_id,
    paymentId: row.payment_id,
    data: row.data,
    createdAt: row.created_at,
  };
}

export async function findEvent(db: Queryable, scope: { merchantId: string; livemode: boolean }, id: string) {
  const { rows } = await db.query<EventRow>('SELECT * FROM events WHERE id = $1 AND merchant_id = $2 AND livemode = $3', [
    id,
    scope.merchantId,
    scope.livemode,
  ]);
  return rows[0] ? toStoredEvent(rows[0]) : undefined;
}
