import { hash, verify } from '@node-rs/argon2';
import type { Queryable } from '../../db/client.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import { isRole, type Role } from './permissions.ts';

/**
 * The people who sign in to the dashboard: a merchant, an e-mail (unique across the gateway), a role and an
 * argon2id password hash. Ten failed sign-ins in a row lock the account for 30 minutes (PCI DSS 8.3.4); a
 * client address that fails too often is refused for a while whichever accounts it tries.
 */

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;
export const LOCK_AFTER_FAILURES = 10;
export const LOCK_MINUTES = 30;
/** Per client address: this many failures within the window refuse further attempts until they age out. */
export const ADDRESS_FAILURE_LIMIT = 30;
export const ADDRESS_WINDOW_MINUTES = 15;

/** OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane); argon2id is the library's default algorithm (its
 * `Algorithm` is a const enum, which this build cannot import), and the hashes' `$argon2id$` prefix is tested. */
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export type DashboardUser = {
  id: string;
  merchantId: string;
  email: string;
  role: Role;
  failedCount: number;
  lockedUntil: Date | null;
  totpEnabled: boolean;
  passwordChangedAt: Date;
  /** An owner reset the password: no page but the change of password opens until the person sets their own. */
  passwordChangeRequired: boolean;
  lastSignInAt: Date | null;
  createdAt: Date;
};

type UserRow = {
  id: string;
  merchant_id: string;
  email: string;
  role: string;
  password_hash: string;
  failed_count: number;
  locked_until: Date | null;
  totp_enabled_at: Date | null;
  password_changed_at: Date;
  password_change_required: boolean;
  last_sign_in_at: Date | null;
  disabled_at: Date | null;
  created_at: Date;
};

export function toUser(row: UserRow): DashboardUser {
  if (!isRole(row.role)) throw new Error(`dashboard user ${row.id} has an unknown role`);
  return {
    id: row.id,
    merchantId: row.merchant_id,
    email: row.email,
    role: row.role,
    failedCount: row.failed_count,
    lockedUntil: row.locked_until,
    totpEnabled: row.totp_enabled_at !== null,
    passwordChangedAt: row.password_changed_at,
    passwordChangeRequired: row.password_change_required,
    lastSignInAt: row.last_sign_in_at,
    createdAt: row.created_at,
  };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export class UserInputError extends Error {}

/** A password the dashboard accepts: 12–256 characters (counted as characters, not bytes). */
export function checkPassword(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH)
    throw new UserInputError(`The password must be at least ${MIN_PASSWORD_LENGTH} characters long`);
  if (length > MAX_PASSWORD_LENGTH)
    throw new UserInputError(`The password must be at most ${MAX_PASSWORD_LENGTH} characters long`);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/** A password to print once for a new user: 20 random characters from an unambiguous alphabet. */
export function generatePassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = Buffer.from(pooledRandomHex(40), 'hex');
  let out = '';
  for (const byte of bytes) {
    if (byte >= 256 - (256 % alphabet.length)) continue; // no modulo bias
    out += alphabet[byte % alphabet.length];
    if (out.length === 20) break;
  }
  return out.length === 20 ? out : generatePassword();
}

export async function createUser(
  db: Queryable,
  input: { merchantId: string; email: string; role: Role; password: string; now: Date },
): Promise<DashboardUser> {
  const email = input.email.trim();
  if (!EMAIL_PATTERN.test(email)) throw new UserInputError('The e-mail address is not valid');
  checkPassword(input.password);
  const passwordHash = await hashPassword(input.password);
  try {
    const { rows } = await db.query<UserRow>(
      `INSERT INTO dashboard_users (id, merchant_id, email, email_normalized, role, password_hash,
         password_changed_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7) RETURNING *`,
      [
        `usr_${pooledRandomHex(16)}`,
        input.merchantId,
        email,
        normalizeEmail(email),
        input.role,
        passwordHash,
        input.now,
      ],
    );
    return toUser(rows[0]!);
  } catch (error) {
    if ((error as { code?: string }).code === '23505')
      throw new UserInputError('A dashboard user with this e-mail address already exists');
    throw error;
  }
}

export async function findUserById(db: Queryable, id: string): Promise<DashboardUser | undefined> {
  const { rows } = await db.query<UserRow>(
    'SELECT * FROM dashboard_users WHERE id = $1 AND disabled_at IS NULL',
    [id],
  );
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function findUserByEmail(db: Queryable, email: string): Promise<DashboardUser | undefined> {
  const { rows } = await db.query<UserRow>(
    'SELECT * FROM dashboard_users WHERE email_normalized = $1 AND disabled_at IS NULL',
    [normalizeEmail(email)],
  );
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function listUsers(db: Queryable, merchantId: string): Promise<DashboardUser[]> {
  const { rows } = await db.query<UserRow>(
    'SELECT * FROM dashboard_users WHERE merchant_id = $1 AND disabled_at IS NULL ORDER BY created_at, id',
    [merchantId],
  );
  return rows.map(toUser);
}

// A hash to verify against when the e-mail is unknown, so an unknown address takes as long as a wrong password.
let decoyHash: Promise<string> | undefined;

export type SignInResult =
  | { outcome: 'signed_in'; user: DashboardUser }
  | { outcome: 'invalid'; user: DashboardUser | undefined; lockedNow: boolean }
  | { outcome: 'locked'; user: DashboardUser }
  | { outcome: 'address_limited' };

/**
 * Checks an e-mail and password. Refuses at once (without looking at the password) while the client address
 * is over its limit or the account is locked; counts a failure against both otherwise.
 */
export async function verifySignIn(
  db: Queryable,
  input: { email: string; password: string; clientAddress: string; now: Date },
): Promise<SignInResult> {
  const { rows: recent } = await db.query<{ failures: number }>(
    `SELECT count(*)::int AS failures FROM dashboard_sign_in_failures
      WHERE client_address = $1 AND failed_at > $2::timestamptz - make_interval(mins => $3)`,
    [input.clientAddress, input.now, ADDRESS_WINDOW_MINUTES],
  );
  if ((recent[0]?.failures ?? 0) >= ADDRESS_FAILURE_LIMIT) return { outcome: 'address_limited' };

  const { rows } = await db.query<UserRow>(
    'SELECT * FROM dashboard_users WHERE email_normalized = $1 AND disabled_at IS NULL',
    [normalizeEmail(input.email)],
  );
  const row = rows[0];
  if (row?.locked_until && row.locked_until > input.now) {
    await recordAddressFailure(db, input.clientAddress, input.now);
    return { outcome: 'locked', user: toUser(row) };
  }
  const password = input.password.slice(0, MAX_PASSWORD_LENGTH * 4);
  const matches = row
    ? await verify(row.password_hash, password).catch(() => false)
    : await verify(await (decoyHash ??= hashPassword(pooledRandomHex(16))), password).catch(() => false);
  if (row && matches) {
    // With two-factor on, the count is cleared only by the code (completeSignIn): a known password must
    // not wipe the failures of someone guessing codes.
    const { rows: updated } = await db.query<UserRow>(
      `UPDATE dashboard_users
          SET failed_count = CASE WHEN totp_enabled_at IS NULL THEN 0 ELSE failed_count END,
              locked_until = NULL, updated_at = $2
        WHERE id = $1 RETURNING *`,
      [row.id, input.now],
    );
    return { outcome: 'signed_in', user: toUser(updated[0]!) };
  }
  await recordAddressFailure(db, input.clientAddress, input.now);
  if (!row) return { outcome: 'invalid', user: undefined, lockedNow: false };
  const counted = await countFailedSignIn(db, row.id, input.now);
  return { outcome: 'invalid', user: counted.user, lockedNow: counted.lockedNow };
}

/**
 * Counts one failed sign-in step (a wrong password, or a wrong second-factor code) against the account; the
 * tenth in a row locks it for 30 minutes and starts the count again for after the lock.
 */
export async function countFailedSignIn(
  db: Queryable,
  userId: string,
  now: Date,
): Promise<{ user: DashboardUser; lockedNow: boolean }> {
  const { rows: counted } = await db.query<UserRow & { locked_now: boolean }>(
    `UPDATE dashboard_users
        SET failed_count = CASE WHEN failed_count + 1 >= $2 THEN 0 ELSE failed_count + 1 END,
            locked_until = CASE WHEN failed_count + 1 >= $2 THEN $3::timestamptz + make_interval(mins => $4)
                                ELSE locked_until END,
            updated_at = $3
      WHERE id = $1
      RETURNING *, (failed_count = 0) AS locked_now`,
    [userId, LOCK_AFTER_FAILURES, now, LOCK_MINUTES],
  );
  const after = counted[0]!;
  return { user: toUser(after), lockedNow: after.locked_now };
}

/** The sign-in is complete (password, and the second factor when there is one): the count starts again. */
export async function completeSignIn(db: Queryable, userId: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE dashboard_users SET failed_count = 0, locked_until = NULL, last_sign_in_at = $2, updated_at = $2
      WHERE id = $1`,
    [userId, now],
  );
}

export async function recordAddressFailure(db: Queryable, clientAddress: string, now: Date): Promise<void> {
  await db.query(
    `WITH pruned AS (
       DELETE FROM dashboard_sign_in_failures WHERE failed_at < $2::timestamptz - make_interval(mins => $3)
     )
     INSERT INTO dashboard_sign_in_failures (client_address, failed_at) VALUES ($1, $2)`,
    [clientAddress, now, ADDRESS_WINDOW_MINUTES],
  );
}

/** Whether `password` is this user's current password (for a change of password). */
export async function passwordMatches(db: Queryable, userId: string, password: string): Promise<boolean> {
  const { rows } = await db.query<{ password_hash: string }>(
    'SELECT password_hash FROM dashboard_users WHERE id = $1',
    [userId],
  );
  if (!rows[0]) return false;
  return verify(rows[0].password_hash, password.slice(0, MAX_PASSWORD_LENGTH * 4)).catch(() => false);
}

/**
 * Sets a new password and revokes every session of the user (the caller signs the person in again).
 * `changeRequired`: someone else chose it (an owner's reset), so the person must replace it at the next
 * sign-in; the person's own change clears the requirement.
 */
export async function setPassword(
  db: Queryable,
  userId: string,
  password: string,
  now: Date,
  options: { changeRequired?: boolean } = {},
): Promise<void> {
  checkPassword(password);
  const passwordHash = await hashPassword(password);
  await db.query(
    `WITH revoked AS (
       UPDATE dashboard_sessions SET revoked_at = $3 WHERE user_id = $1 AND revoked_at IS NULL
     )
     UPDATE dashboard_users SET password_hash = $2, password_changed_at = $3, failed_count = 0,
            locked_until = NULL, password_change_required = $4, updated_at = $3
      WHERE id = $1`,
    [userId, passwordHash, now, options.changeRequired ?? false],
  );
}
