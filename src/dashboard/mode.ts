import type { Queryable } from '../db/client.ts';
import type { DashboardUser } from '../modules/users/users.ts';
import { roleAllows } from '../modules/users/permissions.ts';

/**
 * The session's mode (test or live). Every dashboard query is scoped by `session.livemode`, so switching
 * the mode switches every page at once; the mode belongs to the session, not to the person, so two tabs of
 * one browser share it and a new sign-in starts in test mode again.
 */

/**
 * Why this person may not enter live mode, or undefined when they may. A role that reads orders may look at
 * live mode, and only with two-factor sign-in on (docs/security.md): the kit also refuses a live session of
 * someone without it, so every way into live mode meets the same rule.
 */
export function liveModeRefusal(user: Pick<DashboardUser, 'role' | 'totpEnabled'>): string | undefined {
  if (!roleAllows(user.role, 'orders', 'read')) return 'Your role may not see live mode.';
  if (!user.totpEnabled)
    return 'Live mode needs two-factor sign-in. Turn it on under Account, then switch to live mode.';
  return undefined;
}

export async function setSessionMode(db: Queryable, idHash: Buffer, livemode: boolean): Promise<void> {
  await db.query('UPDATE dashboard_sessions SET livemode = $2 WHERE id_hash = $1 AND revoked_at IS NULL', [
    idHash,
    livemode,
  ]);
}
