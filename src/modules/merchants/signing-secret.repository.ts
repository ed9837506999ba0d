import type { Queryable } from '../../db/client.ts';
import { newId } from '../../lib/ids.ts';
import type { Scope } from '../checkouts/checkout.types.ts';

/** SQL of `merchant_signing_secrets`: one encrypted secret per merchant and mode (migration 0006). */

/** Inserts the secret unless one exists; concurrent first uses all end up reading the same winner. */
export async function insertSigningSecretIfMissing(
  db: Queryable,
  scope: Scope,
  encrypted: Buffer,
): Promise<void> {
  await db.query(
    `INSERT INTO merchant_signing_secrets (merchant_id, livemode, secret_encrypted, id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (merchant_id, livemode) DO NOTHING`,
    [scope.merchantId, scope.livemode, encrypted, newId('ss')],
  );
}

export type StoredSigningSecret = {
  /** `ss_…` (migration 0035): a new one with every roll. */
  id: string;
  encrypted: Buffer;
  createdAt: Date;
  /** After a roll (migration 0014): the secret it replaced, still used until `previousExpiresAt`. */
  previousEncrypted: Buffer | null;
  previousExpiresAt: Date | null;
};

type SigningSecretRow = {
  id: string;
  secret_encrypted: Buffer;
  created_at: Date;
  previous_secret_encrypted: Buffer | null;
  previous_expires_at: Date | null;
};

function toStoredSigningSecret(row: SigningSecretRow): StoredSigningSecret {
  return {
    id: row.id,
    encrypted: row.secret_encrypted,
    createdAt: row.created_at,
    previousEncrypted: row.previous_secret_encrypted,
    previousExpiresAt: row.previous_expires_at,
  };
}

export async function findSigningSecret(
  db: Queryable,
  scope: Scope,
  options: { forUpdate?: boolean } = {},
): Promise<StoredSigningSecret | undefined> {
  const { rows } = await db.query<SigningSecretRow>(
    `SELECT id, secret_encrypted, created_at, previous_secret_encrypted, previous_expires_at
       FROM merchant_signing_secrets WHERE merchant_id = $1 AND livemode = $2
       ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [scope.merchantId, scope.livemode],
  );
  return rows[0] ? toStoredSigningSecret(rows[0]) : undefined;
}

/** Replaces the secret; the one it replaces is kept until `previousExpiresAt`. */
export async function replaceSigningSecret(
  db: Queryable,
  scope: Scope,
  encrypted: Buffer,
  previousExpiresAt: Date,
): Promise<StoredSigningSecret> {
  const { rows } = await db.query<SigningSecretRow>(
    `UPDATE merchant_signing_secrets
        SET previous_secret_encrypted = secret_encrypted, previous_expires_at = $4,
            secret_encrypted = $3, created_at = now(), id = $5
      WHERE merchant_id = $1 AND livemode = $2
      RETURNING id, secret_encrypted, created_at, previous_secret_encrypted, previous_expires_at`,
    [scope.merchantId, scope.livemode, encrypted, previousExpiresAt, newId('ss')],
  );
  return toStoredSigningSecret(rows[0]!);
}
