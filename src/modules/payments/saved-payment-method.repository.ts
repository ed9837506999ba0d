import type { Queryable } from '../../db/client.ts';
import { fetchPage, type PageRequest } from '../../db/pagination.ts';
import type { Scope } from '../checkouts/checkout.types.ts';

/** SQL of `saved_payment_methods` (migration 0006). Every query filters by merchant, mode and customer. */

export type SavedPaymentMethodRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  customer_id: string;
  card_brand: string;
  card_last4: string;
  card_exp_month: number;
  card_exp_year: number;
  card_fingerprint: string;
  card_encrypted: Buffer;
  created_at: Date;
  deleted_at: Date | null;
};

export type NewSavedCard = {
  id: string;
  scope: Scope;
  customerId: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  fingerprint: string;
  /** Sealed card data (see saved-payment-method.service.ts). */
  encrypted: Buffer;
  now: Date;
};

/**
 * Saves a card, or refreshes the customer's existing entry for the same card (same keyed fingerprint): new
 * expiry and sealed data, and a removed entry comes back, keeping its id.
 */
export async function upsertSavedCard(tx: Queryable, card: NewSavedCard): Promise<SavedPaymentMethodRow> {
  const { rows } = await tx.query<SavedPaymentMethodRow>(
    `INSERT INTO saved_payment_methods (id, merchant_id, livemode, customer_id, card_brand, card_last4, card_exp_month,
       card_exp_year, card_fingerprint, card_encrypted, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (customer_id, card_fingerprint) DO UPDATE SET
       card_exp_month = EXCLUDED.card_exp_month, card_exp_year = EXCLUDED.card_exp_year,
       card_encrypted = EXCLUDED.card_encrypted, deleted_at = NULL
     RETURNING *`,
    [
      card.id,
      card.scope.merchantId,
      card.scope.livemode,
      card.customerId,
      card.brand,
      card.last4,
      card.expMonth,
      card.expYear,
      card.fingerprint,
      card.encrypted,
      card.now,
    ],
  );
  return rows[0]!;
}

/**
 * After a master-key rotation a card's fingerprint changes: the customer's entry saved under a previous key's
 * fingerprint (`previous`) takes the current one, so saving the card again refreshes that entry instead of
 * adding a second one. Nothing happens when the customer already has an entry under the current fingerprint.
 */
export async function rekeySavedCardFingerprint(
  tx: Queryable,
  customerId: string,
  current: string,
  previous: readonly string[],
): Promise<void> {
  if (previous.length === 0) return;
  await tx.query(
    `UPDATE saved_payment_methods SET card_fingerprint = $2
      WHERE id = (SELECT id FROM saved_payment_methods
                   WHERE customer_id = $1 AND card_fingerprint = ANY($3::text[])
                   ORDER BY created_at LIMIT 1 FOR UPDATE)
        AND NOT EXISTS (SELECT 1 FROM saved_payment_methods WHERE customer_id = $1 AND card_fingerprint = $2)`,
    [customerId, current, previous],
  );
}

/** A page of the customer's cards that have not been removed, newest first (`limit + 1` rows: src/db/pagination.ts). */
export async function listSavedCards(
  db: Queryable,
  scope: Scope,
  customerId: string,
  page: PageRequest,
): Promise<SavedPaymentMethodRow[]> {
  return fetchPage<SavedPaymentMethodRow>(
    db,
    {
      alias: 'saved_payment_methods',
      from: 'saved_payment_methods',
      columns: 'saved_payment_methods.*',
      scope: [
        (p) => `saved_payment_methods.merchant_id = ${p(scope.merchantId)}`,
        (p) => `saved_payment_methods.livemode = ${p(scope.livemode)}`,
        (p) => `saved_payment_methods.customer_id = ${p(customerId)}`,
        () => 'saved_payment_methods.deleted_at IS NULL',
      ],
    },
    page,
  );
}

export async function findSavedCard(
  db: Queryable,
  scope: Scope,
  customerId: string,
  id: string,
): Promise<SavedPaymentMethodRow | undefined> {
  const { rows } = await db.query<SavedPaymentMethodRow>(
    `SELECT * FROM saved_payment_methods
      WHERE id = $1 AND merchant_id = $2 AND livemode = $3 AND customer_id = $4 AND deleted_at IS NULL`,
    [id, scope.merchantId, scope.livemode, customerId],
  );
  return rows[0];
}

/**
 * Removes a saved card: the sealed card data is wiped (an empty value), display data and fingerprint stay for
 * the payments that refer to it. Returns false when there was no such (unremoved) card.
 */
export async function removeSavedCard(
  db: Queryable,
  scope: Scope,
  customerId: string,
  id: string,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE saved_payment_methods SET deleted_at = $5, card_encrypted = '\\x'::bytea
      WHERE id = $1 AND merchant_id = $2 AND livemode = $3 AND customer_id = $4 AND deleted_at IS NULL`,
    [id, scope.merchantId, scope.livemode, customerId, now],
  );
  return (rowCount ?? 0) > 0;
}

/** Removes every saved card of a customer (its deletion), wiping the sealed card data; answers how many. */
export async function removeSavedCardsOfCustomer(
  db: Queryable,
  scope: Scope,
  customerId: string,
  now: Date,
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE saved_payment_methods SET deleted_at = $4, card_encrypted = '\\x'::bytea
      WHERE merchant_id = $1 AND livemode = $2 AND customer_id = $3 AND deleted_at IS NULL`,
    [scope.merchantId, scope.livemode, customerId, now],
  );
  return rowCount ?? 0;
}
