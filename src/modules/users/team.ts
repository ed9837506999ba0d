import { randomBytes } from 'node:crypto';
import type { Database, Queryable } from '../../db/client.ts';
import { sha256 } from '../../lib/hashing.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import { isRole, type Role } from './permissions.ts';
import {
  createUser,
  generatePassword,
  normalizeEmail,
  setPassword,
  UserInputError,
  type DashboardUser,
} from './users.ts';

/**
 * The team of a merchant, as its owners manage it: roles, removal, a password reset, and invitations by
 * one-time link (no e-mail server: the owner copies the link). Every change that alters what a person may do
 * revokes their sessions at once, so the next request of any of their browsers signs in again.
 */

export const INVITATION_DAYS = 7;

async function revokeSessionsOf(db: Queryable, userId: string, now: Date) {
  await db.query('UPDATE dashboard_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL', [
    userId,
    now,
  ]);
}

/** A person of this merchant (never another merchant's, whatever id a form names). */
export async function findTeamMember(db: Queryable, merchantId: string, userId: string) {
  const { rows } = await db.query<{ id: string; email: string; role: Role }>(
    'SELECT id, email, role FROM dashboard_users WHERE id = $1 AND merchant_id = $2 AND disabled_at IS NULL',
    [userId, merchantId],
  );
  return rows[0];
}

async function otherOwners(db: Queryable, merchantId: string, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM dashboard_users
      WHERE merchant_id = $1 AND id <> $2 AND role = 'owner' AND disabled_at IS NULL`,
    [merchantId, userId],
  );
  return rows[0]?.n ?? 0;
}

/** Changes a person's role; refuses to leave the merchant without an owner. Answers the previous role. */
export async function changeRole(
  db: Queryable,
  merchantId: string,
  userId: string,
  role: string,
  now: Date,
): Promise<{ from: Role; to: Role } | undefined> {
  if (!isRole(role)) throw new UserInputError('Choose one of the roles');
  const member = await findTeamMember(db, merchantId, userId);
  if (!member) return undefined;
  if (member.role === role) return { from: role, to: role };
  if (member.role === 'owner' && (await otherOwners(db, merchantId, userId)) === 0)
    throw new UserInputError('A shop keeps at least one owner');
  await db.query('UPDATE dashboard_users SET role = $2, updated_at = $3 WHERE id = $1', [userId, role, now]);
  await revokeSessionsOf(db, userId, now);
  return { from: member.role, to: role };
}

/** Removes a person (kept for the audit trail, never able to sign in again); their sessions end at once. */
export async function removeMember(db: Queryable, merchantId: string, userId: string, now: Date) {
  const member = await findTeamMember(db, merchantId, userId);
  if (!member) return undefined;
  if (member.role === 'owner' && (await otherOwners(db, merchantId, userId)) === 0)
    throw new UserInputError('A shop keeps at least one owner');
  // The address is freed (suffixed) so the same person can be invited again later.
  await db.query(
    `UPDATE dashboard_users SET disabled_at = $2, updated_at = $2,
            email_normalized = email_normalized || '#removed-' || id
      WHERE id = $1`,
    [userId, now],
  );
  await revokeSessionsOf(db, userId, now);
  await db.query('DELETE FROM dashboard_pending_sign_ins WHERE user_id = $1', [userId]);
  return member;
}

/**
 * An owner's reset of another person's password: a generated one, answered once; their sessions end, and the
 * person must choose their own password at the next sign-in before any other page opens.
 */
export async function resetMemberPassword(db: Queryable, merchantId: string, userId: string, now: Date) {
  const member = await findTeamMember(db, merchantId, userId);
  if (!member) return undefined;
  const password = generatePassword();
  // Revokes every session of the person; the owner saw this password, so the person must replace it.
  await setPassword(db, userId, password, now, { changeRequired: true });
  await db.query('DELETE FROM dashboard_pending_sign_ins WHERE user_id = $1', [userId]);
  return { member, password };
}

export type Invitation = {
  id: string;
  email: string;
  role: Role;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
};

type InvitationRow = {
  id: string;
  merchant_id: string;
  email: string;
  role: Role;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
};

function toInvitation(row: InvitationRow): Invitation {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    revokedAt: row.revoked_at,
  };
}

/** Invites an e-mail with a role; answers the invitation and its token (the link's secret, shown once). */
export async function createInvitation(
  db: Queryable,
  input: { merchantId: string; email: string; role: string; createdBy: string; formKey: string; now: Date },
): Promise<{ invitation: Invitation; token: string } | 'already_created'> {
  const email = input.email.trim();
  if (!/^[^\s@]{1,64}@[^\s@]{1,255}$/.test(email))
    throw new UserInputError('The e-mail address is not valid');
  if (!isRole(input.role)) throw new UserInputError('Choose one of the roles');
  const { rows: taken } = await db.query('SELECT 1 FROM dashboard_users WHERE email_normalized = $1', [
    normalizeEmail(email),
  ]);
  if (taken[0]) throw new UserInputError('A dashboard user with this e-mail address already exists');
  const token = randomBytes(32).toString('base64url');
  const { rows } = await db.query<InvitationRow>(
    `INSERT INTO dashboard_invitations (id, merchant_id, email, email_normalized, role, token_hash, created_by,
       created_at, expires_at, form_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8::timestamptz + make_interval(days => $9), $10)
     ON CONFLICT (merchant_id, form_key) DO NOTHING RETURNING *`,
    [
      `inv_${pooledRandomHex(16)}`,
      input.merchantId,
      email,
      normalizeEmail(email),
      input.role,
      sha256(token),
      input.createdBy,
      input.now,
      INVITATION_DAYS,
      input.formKey,
    ],
  );
  // The link was shown in the answer to the first submit; it is not kept, so it cannot be shown again.
  if (!rows[0]) return 'already_created';
  return { invitation: toInvitation(rows[0]), token };
}

/** Open invitations (not accepted, not revoked, not expired) of a merchant, newest first. */
export async function listOpenInvitations(
  db: Queryable,
  merchantId: string,
  now: Date,
): Promise<Invitation[]> {
  const { rows } = await db.query<InvitationRow>(
    `SELECT * FROM dashboard_invitations
      WHERE merchant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2
      ORDER BY created_at DESC`,
    [merchantId, now],
  );
  return rows.map(toInvitation);
}

export async function revokeInvitation(db: Queryable, merchantId: string, id: string, now: Date) {
  const { rows } = await db.query<InvitationRow>(
    `UPDATE dashboard_invitations SET revoked_at = $3
      WHERE id = $1 AND merchant_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING *`,
    [id, merchantId, now],
  );
  return rows[0] ? toInvitation(rows[0]) : undefined;
}

/** The open invitation a link's token names, with its merchant; undefined when used, revoked or expired. */
export async function findOpenInvitation(db: Queryable, token: string, now: Date) {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const { rows } = await db.query<InvitationRow>(
    `SELECT * FROM dashboard_invitations
      WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2`,
    [sha256(token), now],
  );
  return rows[0] ? { ...toInvitation(rows[0]), merchantId: rows[0].merchant_id } : undefined;
}

/**
 * Accepts an invitation: claims it (once — a second use of the link, even at the same moment, finds it taken)
 * and makes the person with the password they chose, in one transaction.
 */
export async function acceptInvitation(
  db: Database,
  token: string,
  password: string,
  now: Date,
): Promise<{ user: DashboardUser; invitation: Invitation } | undefined> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<InvitationRow>(
      `UPDATE dashboard_invitations SET accepted_at = $2
        WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING *`,
      [sha256(token), now],
    );
    const row = rows[0];
    if (!row) return undefined;
    const user = await createUser(tx, {
      merchantId: row.merchant_id,
      email: row.email,
      role: row.role,
      password,
      now,
    });
    await tx.query('UPDATE dashboard_invitations SET accepted_user_id = $2 WHERE id = $1', [row.id, user.id]);
    return { user, invitation: toInvitation(row) };
  });
}
