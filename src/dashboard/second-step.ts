import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/client.ts';
import { sha256 } from '../lib/hashing.ts';
import { secondFactorRequired } from '../modules/users/two-factor.ts';
import { completeSignIn, toUser, type DashboardUser } from '../modules/users/users.ts';
import type { DashboardKit } from './kit.tsx';
import { createSession, newSessionSecret, serializeCookie } from './sessions.ts';

/**
 * The half-signed-in state between a password and the second factor: the browser holds a new random secret in
 * the pre-session cookie (replacing the sign-in form's, so the state cannot be planted beforehand), the table
 * its SHA-256, the person and which step is due (`code` or `enrol`). It lasts ten minutes and allows five
 * tries; it is never a session and opens no page but its own.
 */

export const PENDING_MINUTES = 10;
export const PENDING_ATTEMPTS = 5;

export type PendingSignIn = { idHash: Buffer; user: DashboardUser; step: 'code' | 'enrol'; attempts: number };

export async function loadPendingSignIn(
  db: Queryable,
  secret: string | undefined,
  now: Date,
): Promise<PendingSignIn | undefined> {
  if (!secret) return undefined;
  const idHash = sha256(secret);
  const { rows } = await db.query(
    `SELECT p.step, p.attempts, u.* FROM dashboard_pending_sign_ins p JOIN dashboard_users u ON u.id = p.user_id
      WHERE p.id_hash = $1 AND p.expires_at > $2 AND u.disabled_at IS NULL`,
    [idHash, now],
  );
  const row = rows[0] as
    (Parameters<typeof toUser>[0] & { step: 'code' | 'enrol'; attempts: number }) | undefined;
  return row ? { idHash, user: toUser(row), step: row.step, attempts: row.attempts } : undefined;
}

/** Counts a wrong code; answers whether tries are left (the state is dropped after the last one). */
export async function countPendingFailure(db: Queryable, idHash: Buffer): Promise<boolean> {
  const { rows } = await db.query<{ attempts: number }>(
    'UPDATE dashboard_pending_sign_ins SET attempts = attempts + 1 WHERE id_hash = $1 RETURNING attempts',
    [idHash],
  );
  const attempts = rows[0]?.attempts ?? PENDING_ATTEMPTS;
  if (attempts < PENDING_ATTEMPTS) return true;
  await dropPendingSignIn(db, idHash);
  return false;
}

export async function dropPendingSignIn(db: Queryable, idHash: Buffer): Promise<void> {
  await db.query('DELETE FROM dashboard_pending_sign_ins WHERE id_hash = $1', [idHash]);
}

/**
 * What follows an accepted password (the sign-in form, or an accepted invitation): the code of an enrolled
 * person, the enrolment of one who must have two-factor (owners), or else the session at once. Sends the
 * answer (a 303); the route returns `reply`.
 */
export async function continueAfterPassword(
  kit: DashboardKit,
  request: FastifyRequest,
  reply: FastifyReply,
  user: DashboardUser,
): Promise<void> {
  const { db, clock, cookies, services } = kit;
  const now = clock.now();
  const step = user.totpEnabled
    ? 'code'
    : secondFactorRequired(user, false, services.config.environment)
      ? 'enrol'
      : undefined;
  if (step) {
    const secret = newSessionSecret();
    await db.query(
      `WITH expired AS (DELETE FROM dashboard_pending_sign_ins WHERE expires_at < $5)
       INSERT INTO dashboard_pending_sign_ins (id_hash, user_id, step, client_address, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $5::timestamptz + make_interval(mins => $6))`,
      [sha256(secret), user.id, step, request.ip, now, PENDING_MINUTES],
    );
    await kit.auditPerson(request, user, 'user.password_accepted', {
      next: step === 'code' ? 'two_factor_code' : 'two_factor_enrolment',
    });
    reply
      .code(303)
      .header('set-cookie', serializeCookie(cookies, cookies.signIn, secret))
      .header('location', step === 'code' ? '/dashboard/sign-in/code' : '/dashboard/sign-in/enrol')
      .send();
    return;
  }
  const session = await startSession(kit, request, user, 'none');
  reply.code(303).header('set-cookie', session).header('location', '/dashboard').send();
}

/**
 * Completes a sign-in: the failure count starts again, a new session is made and the sign-in audited. Answers
 * the Set-Cookie headers (the session, and the pre-session cookie cleared).
 */
export async function startSession(
  kit: DashboardKit,
  request: FastifyRequest,
  user: DashboardUser,
  secondFactor: 'none' | 'code' | 'recovery_code' | 'enrolled',
): Promise<string[]> {
  const now = kit.clock.now();
  await completeSignIn(kit.db, user.id, now);
  const secret = await createSession(kit.db, {
    userId: user.id,
    clientAddress: request.ip,
    userAgent: request.headers['user-agent'],
    now,
  });
  await kit.auditPerson(request, user, 'user.signed_in', { second_factor: secondFactor });
  return [
    kit.sessionCookie(secret),
    serializeCookie(kit.cookies, kit.cookies.signIn, '', { maxAgeSeconds: 0 }),
  ];
}
