import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../db/client.ts';
import { recordAudit, type AuditEntry } from '../modules/audit/audit.service.ts';
import type { DashboardSession } from './sessions.ts';

/** What an audit entry needs of a page's context (kit.tsx's `Context`; named here so kit can import this file). */
type ActingContext = { session: DashboardSession; scope: { merchantId: string; livemode: boolean } };

/**
 * The dashboard's one door to the audit log (src/modules/audit/): sign-ins, failures, locks and every action a
 * person takes, with the person as the actor and the client address.
 */
export type DashboardAuditEntry = AuditEntry;

export async function recordDashboardAudit(db: Queryable, entry: DashboardAuditEntry): Promise<void> {
  await recordAudit(db, entry);
}

/**
 * A change the signed-in person made, audited in the change's own transaction (so there is no change without
 * its entry): the person as the actor, their address, and the session's mode among the details.
 */
export function auditPersonsChange(
  tx: Parameters<typeof recordDashboardAudit>[0],
  request: FastifyRequest,
  context: ActingContext,
  change: { action: string; objectType: string; objectId: string; details?: Record<string, unknown> },
) {
  return recordDashboardAudit(tx, {
    merchantId: context.scope.merchantId,
    actor: userActor(context.session),
    action: change.action,
    objectType: change.objectType,
    objectId: change.objectId,
    clientAddress: request.ip,
    details: { livemode: context.scope.livemode, ...change.details },
  });
}

/**
 * `auditPersonsChange` for one area of the dashboard (webhook endpoints, processor accounts): the object type
 * of its entries follows from the action.
 */
export function areaAudit(objectTypeOf: (action: string) => string) {
  return (
    tx: Parameters<typeof recordDashboardAudit>[0],
    request: FastifyRequest,
    context: ActingContext,
    action: string,
    objectId: string,
    details: Record<string, unknown> = {},
  ) =>
    auditPersonsChange(tx, request, context, { action, objectType: objectTypeOf(action), objectId, details });
}

export const SYSTEM_ACTOR = { type: 'system' as const, id: 'dashboard' };

export function userActor(session: Pick<DashboardSession, 'user'>) {
  return { type: 'user' as const, id: session.user.id, label: session.user.email };
}
