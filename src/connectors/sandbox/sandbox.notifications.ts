import type { ConnectorStatusUpdate } from '../connector.ts';
import {
  DUE_BATCH_SIZE,
  SANDBOX_CONNECTOR_ID,
  SANDBOX_NOTIFY_BACKOFF_BASE_MS,
  SANDBOX_NOTIFY_BACKOFF_MAX_MS,
  SANDBOX_NOTIFY_LEASE_MS,
  type SandboxContext,
} from './sandbox.context.ts';
import {
  claimNotifications,
  markNotificationDelivered,
  markNotificationFailed,
  type NotificationRow,
} from './sandbox.ledger-notifications.ts';

/**
 * The sandbox's asynchronous decisions reach Kassa as notifications: written with the decision, handed to the
 * `notify` sink right after the commit, then again with backoff until the sink accepts (at-least-once; the
 * consumer dedupes by `notificationId`).
 */
export type SandboxNotifications = ReturnType<typeof createSandboxNotifications>;

export function createSandboxNotifications(context: SandboxContext) {
  const { db, notify, clock, guardLedger } = context;

  function toStatusUpdate(row: NotificationRow): ConnectorStatusUpdate {
    const update: ConnectorStatusUpdate = {
      notificationId: row.id,
      connectorId: SANDBOX_CONNECTOR_ID,
      connectorReference: row.payment_reference,
      paymentId: row.payment_id,
      status: row.status,
      occurredAt: row.occurred_at,
    };
    if (row.decline_code) update.declineCode = row.decline_code;
    return update;
  }

  /** Hands claimed notifications to the sink; a refusal schedules the next attempt with backoff. */
  async function deliver(rows: NotificationRow[]): Promise<number> {
    let delivered = 0;
    for (const row of rows) {
      const update = toStatusUpdate(row);
      try {
        await notify(update);
        if (context.faults().duplicateNotifications) await notify(update);
        await markNotificationDelivered(db, row.id, clock.now());
        delivered += 1;
      } catch (error) {
        const backoffMs = Math.min(
          SANDBOX_NOTIFY_BACKOFF_BASE_MS * 2 ** Math.max(0, row.attempts - 1),
          SANDBOX_NOTIFY_BACKOFF_MAX_MS,
        );
        const message = error instanceof Error ? error.message : String(error);
        await markNotificationFailed(db, row.id, {
          error: message,
          nextAttemptAt: new Date(clock.now().getTime() + backoffMs),
        }).catch(() => {}); // the lease expires on its own; the row is retried either way
        context.onNotificationError?.(error, update);
      }
    }
    return delivered;
  }

  /**
   * First delivery, right after the decision committed. Never throws: the decision stands whatever happens
   * here, and an undelivered row is due immediately, so `redeliverDueNotifications` picks it up.
   */
  async function deliverNow(notificationIds: string[]): Promise<void> {
    for (const id of notificationIds) {
      try {
        await deliver(await claimNotifications(db, { id }, clock.now(), SANDBOX_NOTIFY_LEASE_MS));
      } catch {
        // Ledger unreachable while claiming: the row stays unclaimed (or its lease expires) and is retried.
      }
    }
  }

  return {
    deliverNow,
    /** Worker step: delivers notifications the sink has not accepted yet. Returns how many were delivered. */
    async redeliverDue(now = clock.now()) {
      return guardLedger(async () => {
        const rows = await claimNotifications(
          db,
          { dueBy: now, limit: DUE_BATCH_SIZE },
          now,
          SANDBOX_NOTIFY_LEASE_MS,
        );
        return deliver(rows);
      });
    },
  };
}
