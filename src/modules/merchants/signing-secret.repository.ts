import type { Queryable } from '../../db/client.ts';
import type { Scope } from '../checkouts/checkout.types.ts';

/** SQL of `merchant_signing_secrets`: one encrypted secret per merchant and mode (migration 0006). */

/** Inserts the secret unless one exists; concurrent first uses all end up reading the same winner. */
export async function insertSigningSecretIfMissing(
  db: Queryable,
  scope: Scope,
  encrypted: Buffer,
): Promise<void> {
  await db.query(
    `INSERT INTO merchant_signing_secrets (merchant_id, livemode, secret_encrypted) VALUES ($1, $2, $3)
     ON CONFLICT (merchant_id, livemode) DO NOTHING`,
    [scope.merchantId, scope.livemode, encrypted],
  );
}

export async function findSigningSecret(
  db: Queryable,
  scope: Scope,
): Promise<{ encrypted: Buffer; createdAt: Date } | undefined> {
  const { rows } = await db.query<{ secret_encrypted: Buffer; created_at: Date }>(
    'SELECT secret_encrypted, created_at FROM merchant_signing_secrets WHERE merchant_id = $1 AND livemode = $2',
    [scope.merchantId, scope.livemode],
  );
  return rows[0] ? { encrypted: rows[0].secret_encrypted, createdAt: rows[0].created_at } : undefined;
}
