import type { Queryable } from '../db/client.ts';
import type { DashboardUser } from '../modules/users/users.ts';
import { roleAllows } from '../modules/users/permissions.ts';

/**
 * The session's mode (test or live). Every dashboard query is scoped by `session.livemode`, so switching
 * the mode switches every page at once; the mode belongs to the session, not to the person, so two tabs of
 * one browser share it and a new sign-in starts in test mode again.
 */

/**
 * Whether this person may see and act on live data. A role that reads orders may look at live mode; the
 * second factor owners and live actions need is checked here as well once two-factor sign-in exists, so
 * every way into live mode passes this one function.
 */
export function mayEnterLiveMode(user: Pick<DashboardUser, 'role'>): boolean {
  return roleAllows(user.role, 'orders', 'read');
}

export async function setSessionMode(db: Queryable, idHash: Buffer, livemode: boolean): Promise<void> {
  await db.query('UPDATE dashboard_sessions SET livemode = $2 WHERE id_hash = $1 AND revoked_at IS NULL', [
    idHash,
    livemode,
  ]);
}
