import type { Queryable } from '../../db/client.ts';
import { AppError } from '../../lib/errors.ts';
import type { MerchantCache } from './merchant-cache.ts';

/**
 * Raw card data (a card number and CVC) reaches Kassa from a merchant's server only through the Processor API
 * (`POST /v1/payments` with `payment_method.card`). A merchant that sends it handles card data itself and is in
 * PCI DSS scope for it, so the operator allows it per merchant (`card_data_permitted`, off for new merchants;
 * `kassa merchant create --card-data`, `kassa merchant update ID --card-data on|off`). The hosted page, saved
 * cards, invoices and wallets need no permission: there the merchant never sees a card number.
 *
 * Read through the merchant cache: an operator's change made in another process applies within its TTL (1 s).
 */
export async function assertCardDataPermitted(
  deps: { db: Queryable; merchants: MerchantCache },
  merchantId: string,
): Promise<void> {
  const merchant = await deps.merchants.find(deps.db, merchantId);
  if (merchant?.cardDataPermitted) return;
  throw new AppError(
    'card_data_not_permitted',
    'This merchant may not send raw card data: pay through the hosted page, a saved card or another method, ' +
      'or ask the operator to allow card data (kassa merchant update <merchant id> --card-data on)',
  );
}
