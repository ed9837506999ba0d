import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/client.ts';
import { sha256 } from '../lib/hashing.ts';
import type { Keyring } from '../lib/keyring.ts';
import { checkCsrfToken, issueCsrfToken } from '../http/hosted/csrf-token.ts';
import { toUser, type DashboardUser } from '../modules/users/users.ts';

/**
 * Dashboard sessions, kept in PostgreSQL so that revoking one (sign out, sign out everywhere, a changed
 * password or role, a removed user) takes effect on the very next request of every gateway process.
 *
 * The cookie holds 32 random bytes; the table holds only their SHA-256. A session ends after 15 minutes
 * without a request (idle timeout) and a new one is made at every sign-in (no fixation).
 */

export const IDLE_TIMEOUT_MINUTES = 15;
/** `last_seen_at` is written at most this often per session, not on every request. */
const TOUCH_AFTER_SECONDS = 30;

export type CookieNames = { session: string; signIn: string; secure: boolean };

/**
 * `__Host-` cookies (Secure, Path=/, no Domain) when the gateway is served over https; a plain-http
 * development gateway on localhost cannot set Secure cookies, so it uses plain names.
 */
export function cookieNames(publicUrl: string): CookieNames {
  const secure = publicUrl.startsWith('https://');
  return secure
    ? { session: '__Host-kassa_session', signIn: '__Host-kassa_signin', secure }
    : { session: 'kassa_session', signIn: 'kassa_signin', secure };
}

export function serializeCookie(
  names: CookieNames,
  name: string,
  value: string,
  options: { maxAgeSeconds?: number } = {},
): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (names.secure) parts.push('Secure');
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  return parts.join('; ');
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() === name) {
      const value = part.slice(index + 1).trim();
      return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export function newSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}

export type DashboardSession = {
  idHash: Buffer;
  user: DashboardUser;
  livemode: boolean;
  createdAt: Date;
  /** When a code was last re-entered in this session (step-up before live credentials and refunds). */
  steppedUpAt: Date | null;
};

export async function createSession(
  db: Queryable,
  input: { userId: string; clientAddress: string; userAgent: string | undefined; now: Date },
): Promise<string> {
  const secret = newSessionSecret();
  await db.query(
    `INSERT INTO dashboard_sessions (id_hash, user_id, client_address, user_agent, created_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $5)`,
    [sha256(secret), input.userId, input.clientAddress, input.userAgent?.slice(0, 300) ?? null, input.now],
  );
  return secret;
}

/** The live session a cookie names: not revoked, seen within the idle timeout, of a user who still exists. */
export async function loadSession(
  db: Queryable,
  secret: string,
  now: Date,
): Promise<DashboardSession | undefined> {
  const idHash = sha256(secret);
  const { rows } = await db.query(
    `SELECT s.livemode, s.created_at AS session_created_at, s.last_seen_at, s.stepped_up_at, u.*
       FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id
      WHERE s.id_hash = $1 AND s.revoked_at IS NULL AND u.disabled_at IS NULL
        AND s.last_seen_at > $2::timestamptz - make_interval(mins => $3)`,
    [idHash, now, IDLE_TIMEOUT_MINUTES],
  );
  const row = rows[0] as
    | (Parameters<typeof toUser>[0] & {
        livemode: boolean;
        session_created_at: Date;
        last_seen_at: Date;
        stepped_up_at: Date | null;
      })
    | undefined;
  if (!row) return undefined;
  if (now.getTime() - row.last_seen_at.getTime() > TOUCH_AFTER_SECONDS * 1000) {
    await db.query('UPDATE dashboard_sessions SET last_seen_at = $2 WHERE id_hash = $1', [idHash, now]);
  }
  return {
    idHash,
    user: toUser(row),
    livemode: row.livemode,
    createdAt: row.session_created_at,
    steppedUpAt: row.stepped_up_at,
  };
}

export async function revokeSession(db: Queryable, idHash: Buffer, now: Date): Promise<void> {
  await db.query('UPDATE dashboard_sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL', [
    idHash,
    now,
  ]);
}

export async function revokeAllSessions(db: Queryable, userId: string, now: Date): Promise<number> {
  const { rowCount } = await db.query(
    'UPDATE dashboard_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL',
    [userId, now],
  );
  return rowCount ?? 0;
}

/**
 * CSRF tokens of the dashboard's forms: the hosted pages' HMAC tokens (src/http/hosted/csrf-token.ts) bound
 * to the session (or, on the sign-in form, to the pre-session cookie), so a token is worthless in another
 * session and a forged form on another site cannot carry one.
 */
export function csrfBinding(kind: 'session' | 'sign_in', id: Buffer | string): string {
  const value = typeof id === 'string' ? sha256(id).toString('hex') : id.toString('hex');
  return `dashboard:${kind}:${value}`;
}

export function issueDashboardCsrf(keyring: Keyring, binding: string, now: Date): string {
  return issueCsrfToken(keyring, binding, now);
}

export function dashboardCsrfValid(keyring: Keyring, binding: string, token: unknown, now: Date): boolean {
  return checkCsrfToken(keyring, binding, token, now) === 'valid';
}
