import type { Queryable } from '../../db/client.ts';
import type { Scope } from './checkout.types.ts';

/**
 * The owner (merchant and mode) of a checkout, for the hosted page: the shopper's browser carries only the
 * checkout id and its URL signature, and the signature — checked BEFORE this lookup — is what grants access.
 * Every later query is scoped with the result like any merchant request.
 */
export async function findCheckoutScope(db: Queryable, checkoutId: string): Promise<Scope | undefined> {
  const { rows } = await db.query<{ merchant_id: string; livemode: boolean }>(
    'SELECT merchant_id, livemode FROM checkouts WHERE id = $1',
    [checkoutId],
  );
  return rows[0] ? { merchantId: rows[0].merchant_id, livemode: rows[0].livemode } : undefined;
}
