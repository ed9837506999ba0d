import type { Queryable } from '../db/client.ts';
import { recordAudit, type AuditEntry } from '../modules/audit/audit.service.ts';

/**
 * The dashboard's one door to the audit log (src/modules/audit/): sign-ins, failures, locks and every action a
 * person takes, with the person as the actor and the client address.
 */
export type DashboardAuditEntry = AuditEntry;

export async function recordDashboardAudit(db: Queryable, entry: DashboardAuditEntry): Promise<void> {
  await recordAudit(db, entry);
}
