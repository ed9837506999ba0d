import type { JWK } from 'jose';
import type { Queryable } from '../../db/client.ts';

export type SigningKeyRow = {
  kid: string;
  algorithm: string;
  public_jwk: JWK;
  private_jwk_encrypted: Buffer | null;
  status: 'next' | 'active' | 'retiring' | 'retired';
  created_at: Date;
  retire_after: Date | null;
};

/** Keys that verify tokens (and are published): the next one, the active one and those retiring. */
export async function findVerifyingKeys(db: Queryable): Promise<SigningKeyRow[]> {
  const { rows } = await db.query<SigningKeyRow>(
    `SELECT * FROM signing_keys WHERE status IN ('next', 'active', 'retiring') ORDER BY created_at DESC`,
  );
  return rows;
}

export async function insertKey(
  db: Queryable,
  key: { kid: string; algorithm: string; publicJwk: JWK; privateJwkEncrypted: Buffer },
  status: 'active' | 'next',
  createdAt: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk_encrypted, status, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [key.kid, key.algorithm, JSON.stringify(key.publicJwk), key.privateJwkEncrypted, status, createdAt],
  );
}

/**
 * Promotes a `next` key published before `publishedBefore` to `active`, demoting the current active key to
 * `retiring` until `retireAfter`. Run it in a transaction; concurrent runs serialise on the row lock and the
 * second one finds nothing to do.
 */
export async function promoteNextKey(
  tx: Queryable,
  publishedBefore: Date,
  retireAfter: Date,
): Promise<boolean> {
  const due = await tx.query<{ kid: string }>(
    `SELECT kid FROM signing_keys WHERE status = 'next' AND created_at <= $1 FOR UPDATE`,
    [publishedBefore],
  );
  const kid = due.rows[0]?.kid;
  if (!kid) return false;
  await demoteActiveKey(tx, retireAfter);
  await tx.query(`UPDATE signing_keys SET status = 'active' WHERE kid = $1`, [kid]);
  return true;
}

/** The active key starts retiring: it verifies until `retireAfter` and signs nothing new. */
export async function demoteActiveKey(db: Queryable, retireAfter: Date): Promise<void> {
  await db.query(`UPDATE signing_keys SET status = 'retiring', retire_after = $1 WHERE status = 'active'`, [
    retireAfter,
  ]);
}

/** Retiring keys past their date are retired and their private half erased. */
export async function retireExpiredKeys(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE signing_keys SET status = 'retired', private_jwk_encrypted = NULL
     WHERE status = 'retiring' AND retire_after <= $1`,
    [now],
  );
  return rowCount ?? 0;
}
