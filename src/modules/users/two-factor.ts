import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { Queryable } from '../../db/client.ts';
import { sha256 } from '../../lib/hashing.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { DEMO_DASHBOARD_EMAIL } from './demo-user.ts';
import type { DashboardUser } from './users.ts';

/**
 * Two-factor authentication of dashboard people (docs/security.md, "Dashboard two-factor authentication"):
 * TOTP (RFC 6238, 6 digits, 30 s, SHA-1 — what every authenticator app reads from the QR code) with the
 * secret sealed by the master key, a code accepted once (the last accepted time step is stored and only later
 * steps pass), and ten single-use recovery codes of which only hashes are kept.
 */

const PURPOSE = 'totp-secret-encryption' as const;
const ISSUER = 'Kassa';
/** One step either side of now: a phone clock 30 s off still works. */
const WINDOW = 1;
export const RECOVERY_CODE_COUNT = 10;
/** How long a re-entered code covers live credential and live refund actions. */
export const STEP_UP_MINUTES = 5;

export type Enrolment = { secret: string; uri: string };

function totpOf(secretBase32: string, email: string): TOTP {
  return new TOTP({ issuer: ISSUER, label: email, secret: Secret.fromBase32(secretBase32) });
}

function seal(keyring: Keyring, secretBase32: string): string {
  return keyring.encrypt(PURPOSE, secretBase32).toString('base64');
}

function unseal(keyring: Keyring, sealed: string): string {
  return keyring.decrypt(PURPOSE, Buffer.from(sealed, 'base64')).toString('utf8');
}

/**
 * The secret being enrolled (made and sealed on first call, the same on a reload until confirmed); undefined
 * when the person already has two-factor switched on.
 */
export async function pendingEnrolment(
  db: Queryable,
  keyring: Keyring,
  user: Pick<DashboardUser, 'id' | 'email'>,
): Promise<Enrolment | undefined> {
  const { rows } = await db.query<{ totp_secret_sealed: string | null; totp_enabled_at: Date | null }>(
    'SELECT totp_secret_sealed, totp_enabled_at FROM dashboard_users WHERE id = $1',
    [user.id],
  );
  const row = rows[0];
  if (!row || row.totp_enabled_at) return undefined;
  let secret = row.totp_secret_sealed ? unseal(keyring, row.totp_secret_sealed) : undefined;
  if (!secret) {
    secret = new Secret({ size: 20 }).base32;
    // Only if no other tab made one meanwhile; then show that one.
    const { rows: set } = await db.query<{ totp_secret_sealed: string }>(
      `UPDATE dashboard_users SET totp_secret_sealed = COALESCE(totp_secret_sealed, $2)
        WHERE id = $1 AND totp_enabled_at IS NULL RETURNING totp_secret_sealed`,
      [user.id, seal(keyring, secret)],
    );
    if (!set[0]) return undefined;
    secret = unseal(keyring, set[0].totp_secret_sealed);
  }
  return { secret, uri: totpOf(secret, user.email).toString() };
}

/** The first time step, after the last accepted one, whose code is `code`; undefined when none is. */
function matchingStep(secret: string, email: string, code: string, lastStep: number | null, now: Date) {
  if (!/^\d{6}$/.test(code)) return undefined;
  const totp = totpOf(secret, email);
  const delta = totp.validate({ token: code, timestamp: now.getTime(), window: WINDOW });
  if (delta === null) return undefined;
  const step = TOTP.counter({ timestamp: now.getTime() }) + delta;
  return lastStep !== null && step <= lastStep ? undefined : step;
}

/**
 * Checks a 6-digit code against the person's enrolled secret (or, with `enrolling`, the pending one) and
 * records its time step, so the same code — or an older one — is refused afterwards. The step is claimed
 * with a conditional UPDATE: two requests racing with one code cannot both pass.
 */
export async function acceptCode(
  db: Queryable,
  keyring: Keyring,
  userId: string,
  code: string,
  now: Date,
  options: { enrolling?: boolean } = {},
): Promise<boolean> {
  const { rows } = await db.query<{
    email: string;
    totp_secret_sealed: string | null;
    totp_enabled_at: Date | null;
    totp_last_step: string | null;
  }>('SELECT email, totp_secret_sealed, totp_enabled_at, totp_last_step FROM dashboard_users WHERE id = $1', [
    userId,
  ]);
  const row = rows[0];
  if (!row?.totp_secret_sealed || (row.totp_enabled_at === null) !== (options.enrolling ?? false))
    return false;
  const lastStep = row.totp_last_step === null ? null : Number(row.totp_last_step);
  const step = matchingStep(unseal(keyring, row.totp_secret_sealed), row.email, code.trim(), lastStep, now);
  if (step === undefined) return false;
  const { rowCount } = await db.query(
    `UPDATE dashboard_users SET totp_last_step = $2,
            totp_enabled_at = CASE WHEN $3 THEN $4::timestamptz ELSE totp_enabled_at END, updated_at = $4
      WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
    [userId, step, options.enrolling ?? false, now],
  );
  return rowCount === 1;
}

/** `xxxx-xxxx-xxxx-xxxx` in lower-case base32 (RFC 4648's 32 letters and digits): 80 random bits. */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (const byte of randomBytes(16)) out += alphabet[byte % 32];
  return (out.match(/.{4}/g) ?? []).join('-');
}

function normalizeRecoveryCode(code: string): string {
  return code.trim().toLowerCase().replace(/[\s-]/g, '');
}

/** Replaces the person's recovery codes with ten new ones, returned once (only their hashes are kept). */
export async function issueRecoveryCodes(db: Queryable, userId: string, now: Date): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await db.query(
    `WITH dropped AS (DELETE FROM dashboard_recovery_codes WHERE user_id = $1)
     INSERT INTO dashboard_recovery_codes (user_id, code_hash, created_at)
     SELECT $1, hash, $3 FROM unnest($2::bytea[]) AS hash`,
    [userId, codes.map((code) => sha256(normalizeRecoveryCode(code))), now],
  );
  return codes;
}

/** Uses one recovery code: true once per code, false afterwards and for a code that is not the person's. */
export async function useRecoveryCode(db: Queryable, userId: string, code: string, now: Date) {
  const normalized = normalizeRecoveryCode(code);
  if (!/^[a-z0-9]{16}$/.test(normalized)) return false;
  const { rowCount } = await db.query(
    `UPDATE dashboard_recovery_codes SET used_at = $3
      WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
    [userId, sha256(normalized), now],
  );
  return rowCount === 1;
}

export async function remainingRecoveryCodes(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM dashboard_recovery_codes WHERE user_id = $1 AND used_at IS NULL',
    [userId],
  );
  return rows[0]?.n ?? 0;
}

/** A code from the authenticator app, or else a recovery code: the second step of a sign-in. */
export async function acceptSecondFactor(
  db: Queryable,
  keyring: Keyring,
  userId: string,
  input: string,
  now: Date,
): Promise<'code' | 'recovery_code' | undefined> {
  if (await acceptCode(db, keyring, userId, input, now)) return 'code';
  if (await useRecoveryCode(db, userId, input, now)) return 'recovery_code';
  return undefined;
}

/**
 * Switches two-factor off for a person who lost their device (`kassa user reset-2fa`): secret, last step and
 * recovery codes go, and so do their sessions; an owner is asked to enrol again at the next sign-in.
 */
export async function resetTwoFactor(db: Queryable, userId: string, now: Date): Promise<void> {
  await db.query(
    `WITH codes AS (DELETE FROM dashboard_recovery_codes WHERE user_id = $1),
          pending AS (DELETE FROM dashboard_pending_sign_ins WHERE user_id = $1),
          sessions AS (UPDATE dashboard_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL)
     UPDATE dashboard_users SET totp_secret_sealed = NULL, totp_enabled_at = NULL, totp_last_step = NULL,
            updated_at = $2
      WHERE id = $1`,
    [userId, now],
  );
}

/**
 * Whether a person must have two-factor before a session in this mode: owners always, everyone in live mode;
 * the development gateway's printed demo owner is let off in test mode only (it is never made in production).
 */
export function secondFactorRequired(
  user: Pick<DashboardUser, 'email' | 'role'>,
  livemode: boolean,
  environment: string,
): boolean {
  if (livemode) return true;
  if (user.role !== 'owner') return false;
  return !(environment !== 'production' && user.email === DEMO_DASHBOARD_EMAIL);
}
