import type { Queryable } from '../../db/client.ts';
import type { AuditActor } from './audit.types.ts';

/**
 * SQL of the audit trail (`audit_log`): rows are only ever inserted, and listed newest first per merchant
 * (docs/security.md, "Audit trail").
 */

export type StoredAuditEntry = {
  id: string;
  merchantId: string | null;
  actor: AuditActor;
  action: string;
  objectType: string | null;
  objectId: string | null;
  clientAddress: string | null;
  details: Record<string, unknown>;
  createdAt: Date;
};

type AuditRow = {
  id: string;
  merchant_id: string | null;
  actor_type: AuditActor['type'];
  actor_id: string;
  actor_label: string | null;
  action: string;
  object_type: string | null;
  object_id: string | null;
  client_address: string | null;
  details: Record<string, unknown>;
  created_at: Date;
};

function toAuditEntry(row: AuditRow): StoredAuditEntry {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    actor: {
      type: row.actor_type,
      id: row.actor_id,
      ...(row.actor_label !== null ? { label: row.actor_label } : {}),
    },
    action: row.action,
    objectType: row.object_type,
    objectId: row.object_id,
    clientAddress: row.client_address,
    details: row.details,
    createdAt: row.created_at,
  };
}

export const INSERT_AUDIT_ENTRY = `INSERT INTO audit_log
    (id, merchant_id, actor_type, actor_id, actor_label, action, object_type, object_id, client_address, details)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

export type AuditFilters = {
  /** Only entries whose action is this one (`api_key.created`) or, ending in `.*`, starts with it. */
  action?: string;
  objectId?: string;
  /** Leave out entries about live-mode objects (`details.livemode = true`): what a test-mode caller sees. */
  testModeOnly?: boolean;
  /** Only entries of this actor (a dashboard user's id, a credential's id). */
  actorId?: string;
  /** Only entries at or after `createdFrom` and before `createdBefore`. */
  createdFrom?: Date;
  createdBefore?: Date;
};

/**
 * A merchant's entries (or, with `merchantId` null, those that concern no one merchant), newest first:
 * `limit + 1` rows after the entry `startingAfter` (see `toPage`, src/http/pagination.ts). A cursor that
 * names no entry of this merchant yields an empty page.
 */
export async function listAuditEntries(
  db: Queryable,
  merchantId: string | null,
  page: { limit: number; startingAfter?: string },
  filters: AuditFilters = {},
): Promise<StoredAuditEntry[]> {
  const values: unknown[] = [];
  const conditions: string[] = [];
  if (merchantId === null) conditions.push('a.merchant_id IS NULL');
  else {
    values.push(merchantId);
    conditions.push(`a.merchant_id = $${values.length}`);
  }
  if (filters.action !== undefined) {
    if (filters.action.endsWith('.*')) {
      values.push(`${filters.action.slice(0, -2).replace(/[\\%_]/g, (c) => `\\${c}`)}.%`);
      conditions.push(`a.action LIKE $${values.length}`);
    } else {
      values.push(filters.action);
      conditions.push(`a.action = $${values.length}`);
    }
  }
  if (filters.testModeOnly) conditions.push(`(a.details->>'livemode') IS DISTINCT FROM 'true'`);
  if (filters.actorId !== undefined) {
    values.push(filters.actorId);
    conditions.push(`a.actor_id = $${values.length}`);
  }
  if (filters.createdFrom !== undefined) {
    values.push(filters.createdFrom);
    conditions.push(`a.created_at >= $${values.length}`);
  }
  if (filters.createdBefore !== undefined) {
    values.push(filters.createdBefore);
    conditions.push(`a.created_at < $${values.length}`);
  }
  if (filters.objectId !== undefined) {
    values.push(filters.objectId);
    conditions.push(`a.object_id = $${values.length}`);
  }
  if (page.startingAfter !== undefined) {
    values.push(page.startingAfter);
    const cursor = `$${values.length}`;
    conditions.push(
      `(a.created_at, a.id) < (SELECT c.created_at, c.id FROM audit_log c
                                 WHERE c.id = ${cursor} AND c.merchant_id IS NOT DISTINCT FROM a.merchant_id)`,
    );
  }
  values.push(page.limit + 1);
  const { rows } = await db.query<AuditRow>(
    `SELECT a.* FROM audit_log a WHERE ${conditions.join(' AND ')}
      ORDER BY a.created_at DESC, a.id DESC LIMIT $${values.length}`,
    values,
  );
  return rows.map(toAuditEntry);
}
