import type { JWK } from 'jose';
import type { Queryable } from '../../db/client.ts';

export type SigningKeyRow = {
  kid: string;
  algorithm: string;
  public_jwk: JWK;
  private_jwk_encrypted: Buffer | null;
  status: 'active' | 'retiring' | 'retired';
  created_at: Date;
  retire_after: Date | null;
};

/** Keys that still verify tokens: the active one and those retiring. */
export async function findVerifyingKeys(db: Queryable): Promise<SigningKeyRow[]> {
  const { rows } = await db.query<SigningKeyRow>(
    `SELECT * FROM signing_keys WHERE status IN ('active', 'retiring') ORDER BY created_at DESC`,
  );
  return rows;
}

export async function insertActiveKey(
  db: Queryable,
  key: { kid: string; algorithm: string; publicJwk: JWK; privateJwkEncrypted: Buffer },
): Promise<void> {
  await db.query(
    `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk_encrypted, status)
     VALUES ($1, $2, $3, $4, 'active')`,
    [key.kid, key.algorithm, JSON.stringify(key.publicJwk), key.privateJwkEncrypted],
  );
}

/** The active key starts retiring: it verifies until `retireAfter` and signs nothing new. */
export async function demoteActiveKey(db: Queryable, retireAfter: Date): Promise<void> {
  await db.query(`UPDATE signing_keys SET status = 'retiring', retire_after = $1 WHERE status = 'active'`, [retireAfter]);
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
