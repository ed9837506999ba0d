import type { Queryable } from '../db/client.ts';

/**
 * The dashboard's one door to the audit log: sign-ins, failures, locks and every action a person takes.
 * Until the audit module lands this writes a structured log line (through `log`); the call sites stay the
 * same when it is replaced by the audit module's `recordAudit`.
 */
export type DashboardAuditEntry = {
  merchantId: string | null;
  actor: { type: 'credential' | 'user' | 'system'; id: string; label?: string };
  action: string;
  objectType?: string;
  objectId?: string;
  clientAddress?: string | null;
  details?: Record<string, unknown>;
};

export type AuditLog = { info(fields: Record<string, unknown>, message: string): void };

export async function recordDashboardAudit(
  _db: Queryable,
  log: AuditLog,
  entry: DashboardAuditEntry,
): Promise<void> {
  log.info({ audit: entry }, `audit ${entry.action}`);
}
