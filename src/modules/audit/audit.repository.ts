import type { Queryable } from '../../db/client.ts';
import { fetchPage, type PageRequest, type Sql } from '../../db/pagination.ts';
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
 * A page of a merchant's entries (or, with `merchantId` null, those that concern no one merchant), newest
 * first: `limit + 1` rows (src/db/pagination.ts). A cursor that names no entry the caller may see is a 400.
 */
export async function listAuditEntries(
  db: Queryable,
  merchantId: string | null,
  page: PageRequest,
  filters: AuditFilters = {},
): Promise<StoredAuditEntry[]> {
  const scope: Sql[] = [
    merchantId === null ? () => 'a.merchant_id IS NULL' : (p) => `a.merchant_id = ${p(merchantId)}`,
  ];
  if (filters.testModeOnly) scope.push(() => `(a.details->>'livemode') IS DISTINCT FROM 'true'`);
  const conditions: Sql[] = [];
  const action = filters.action;
  if (action !== undefined) {
    if (action.endsWith('.*'))
      conditions.push(
        (p) => `a.action LIKE ${p(`${action.slice(0, -2).replace(/[\\%_]/g, (c) => `\\${c}`)}.%`)}`,
      );
    else conditions.push((p) => `a.action = ${p(action)}`);
  }
  if (filters.actorId !== undefined) conditions.push((p) => `a.actor_id = ${p(filters.actorId)}`);
  if (filters.createdFrom !== undefined) conditions.push((p) => `a.created_at >= ${p(filters.createdFrom)}`);
  if (filters.createdBefore !== undefined)
    conditions.push((p) => `a.created_at < ${p(filters.createdBefore)}`);
  if (filters.objectId !== undefined) conditions.push((p) => `a.object_id = ${p(filters.objectId)}`);
  const rows = await fetchPage<AuditRow>(
    db,
    { alias: 'a', from: 'audit_log a', columns: 'a.*', scope, filters: conditions },
    page,
  );
  return rows.map(toAuditEntry);
}
