import type { ProcessorNotification } from '../../connectors/processor.ts';
import type { Database, Queryable } from '../../db/client.ts';
import { PLANNED_PER_CALL } from '../../db/client.ts';

/**
 * Processor webhooks, after verification: each notification is stored first (unique per account and the
 * processor's event id, so a redelivery is recognised and changes nothing), then the processor is answered,
 * then the new ones are applied through the payment flow. A notification that could not be applied — its
 * payment's answer not recorded yet, or the process died — stays `applied_at IS NULL` and the
 * `processor-notifications` worker applies it again (the state machines make that harmless).
 */

export type NotificationApplier = (
  accountId: string,
  notification: ProcessorNotification,
) => Promise<'applied' | 'unmatched'>;

/** Stores the notifications; answers those not seen before, in order. */
export async function storeProcessorNotifications(
  db: Queryable,
  accountId: string,
  notifications: readonly ProcessorNotification[],
): Promise<ProcessorNotification[]> {
  const fresh: ProcessorNotification[] = [];
  for (const notification of notifications) {
    const { rowCount } = await db.query(
      `INSERT INTO processor_notifications (processor_account_id, event_id, kind, payment_id, connector_reference,
         operation_reference, status, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (processor_account_id, event_id) DO NOTHING`,
      [
        accountId,
        notification.eventId,
        notification.kind,
        notification.paymentId ?? null,
        notification.connectorReference,
        'operationReference' in notification ? notification.operationReference : null,
        notification.status,
        JSON.stringify(notification),
      ],
    );
    if ((rowCount ?? 0) > 0) fresh.push(notification);
  }
  return fresh;
}

async function markApplied(db: Queryable, accountId: string, eventId: string): Promise<void> {
  await db.query(
    `UPDATE processor_notifications SET applied_at = now()
      WHERE processor_account_id = $1 AND event_id = $2 AND applied_at IS NULL`,
    [accountId, eventId],
  );
}

/** Applies stored notifications one by one; a failure leaves that one for the worker. Returns how many applied. */
export async function applyProcessorNotifications(
  db: Queryable,
  apply: NotificationApplier,
  accountId: string,
  notifications: readonly ProcessorNotification[],
): Promise<number> {
  let applied = 0;
  for (const notification of notifications) {
    const result = await apply(accountId, notification).catch(() => 'failed' as const);
    if (result !== 'applied') continue;
    await markApplied(db, accountId, notification.eventId);
    applied += 1;
  }
  return applied;
}

type StoredNotificationRow = { processor_account_id: string; body: ProcessorNotification };

/**
 * Worker step: notifications received more than `olderThanMs` ago and not applied yet, tried again (for a
 * day: after that an unmatched notification is left for a person to look at; the payment itself is
 * reconciled by recovery through `getPaymentStatus`).
 */
export async function applyUnappliedProcessorNotifications(
  db: Database,
  apply: NotificationApplier,
  options: { olderThanMs?: number; limit?: number } = {},
): Promise<number> {
  const { rows } = await db.query<StoredNotificationRow>(
    PLANNED_PER_CALL +
      `SELECT processor_account_id, body FROM processor_notifications
        WHERE applied_at IS NULL AND received_at < now() - make_interval(secs => $1::float8)
          AND received_at > now() - interval '1 day'
        ORDER BY received_at LIMIT $2`,
    [(options.olderThanMs ?? 5_000) / 1000, options.limit ?? 100],
  );
  let applied = 0;
  for (const row of rows) {
    const notification = {
      ...row.body,
      occurredAt: new Date(row.body.occurredAt),
    } as ProcessorNotification;
    applied += await applyProcessorNotifications(db, apply, row.processor_account_id, [notification]);
  }
  return applied;
}
