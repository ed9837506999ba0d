import type { StoredAuditEntry } from './audit.repository.ts';

/** An audit entry as `GET /v1/audit-log` and `kassa audit-log list --json` show it (docs/security.md). */
export type AuditEntryJson = {
  id: string;
  object: 'audit_log_entry';
  action: string;
  actor: { type: StoredAuditEntry['actor']['type']; id: string; label: string | null };
  object_type: string | null;
  object_id: string | null;
  client_address: string | null;
  details: Record<string, unknown>;
  created_at: string;
};

export function presentAuditEntry(entry: StoredAuditEntry): AuditEntryJson {
  return {
    id: entry.id,
    object: 'audit_log_entry',
    action: entry.action,
    actor: { type: entry.actor.type, id: entry.actor.id, label: entry.actor.label ?? null },
    object_type: entry.objectType,
    object_id: entry.objectId,
    client_address: entry.clientAddress,
    details: entry.details,
    created_at: entry.createdAt.toISOString(),
  };
}
