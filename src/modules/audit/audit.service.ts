import { userInfo } from 'node:os';
import type { Queryable } from '../../db/client.ts';
import { currentActor, currentClientAddress } from '../../lib/actor-context.ts';
import { newId } from '../../lib/ids.ts';
import { INSERT_AUDIT_ENTRY } from './audit.repository.ts';
import type { AuditActor } from './audit.types.ts';

export type { AuditActor };

export { listAuditEntries, type AuditFilters, type StoredAuditEntry } from './audit.repository.ts';

/**
 * The audit trail (docs/security.md, "Audit trail"): one row per security-relevant act — a credential made,
 * rolled or revoked, a secret or signing key rotated, a dashboard sign-in, a failed one, a lock-out — naming
 * who did it (`actor`), what (`action`, dotted: `api_key.created`), to which object, from which client
 * address, and when. Write it with `recordAudit` in the transaction of the change it records, so the change
 * and its entry commit together or not at all.
 */

export type AuditEntry = {
  /** null: the act concerns no one merchant (the token-signing key). */
  merchantId: string | null;
  actor: AuditActor;
  /** Dotted and lower-case: `api_key.created`, `user.signed_in`, `user.sign_in_failed`, `user.locked`. */
  action: string;
  objectType?: string;
  objectId?: string;
  clientAddress?: string | null;
  /** Never a secret: hints (`sk_test_…abcd`), scopes, expiry times, reasons. */
  details?: Record<string, unknown>;
};

/**
 * The actor of the work running now, for an audit entry (src/lib/actor-context.ts): the request's credential,
 * a dashboard user, or Kassa itself — the command line labelled with the operating-system user who ran it.
 */
export function currentAuditActor(): AuditActor {
  const actor = currentActor();
  if (actor.type === 'credential' || actor.type === 'user') return { type: actor.type, id: actor.id };
  if (actor.type === 'shopper') return { type: 'system', id: `shopper:${actor.id}` };
  if (actor.id === 'cli') {
    const label = operatingSystemUser();
    return label ? { type: 'system', id: 'cli', label } : { type: 'system', id: 'cli' };
  }
  return { type: 'system', id: actor.id };
}

function operatingSystemUser(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return process.env.USER ?? undefined;
  }
}

/** `recordAudit` with the actor and client address of the work running now (an API request, the CLI). */
export async function recordAuditNow(db: Queryable, entry: Omit<AuditEntry, 'actor' | 'clientAddress'>) {
  await recordAudit(db, { ...entry, actor: currentAuditActor(), clientAddress: currentClientAddress() });
}

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/**
 * Writes one audit entry on `db` — a transaction's handle (the entry commits with the change) or the pool
 * (autocommit: a failed sign-in, which changes nothing else). Inside a unit of work the insert is queued
 * and travels with the unit's next statement or its COMMIT, costing no round trip of its own.
 */
export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  if (!ACTION.test(entry.action)) {
    throw new Error(
      `Audit action ${JSON.stringify(entry.action)} is not dotted lower-case (api_key.created)`,
    );
  }
  const values = [
    newId('aud'),
    entry.merchantId,
    entry.actor.type,
    entry.actor.id,
    entry.actor.label ?? null,
    entry.action,
    entry.objectType ?? null,
    entry.objectId ?? null,
    entry.clientAddress ?? null,
    JSON.stringify(entry.details ?? {}),
  ];
  if (isUnitOfWork(db)) {
    db.write(INSERT_AUDIT_ENTRY, values);
    return;
  }
  await db.query(INSERT_AUDIT_ENTRY, values);
}

function isUnitOfWork(db: Queryable): db is Queryable & { write(text: string, values?: unknown[]): unknown } {
  return typeof (db as { write?: unknown }).write === 'function';
}
