import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { appendQueryParams } from '../../lib/merchant-urls.ts';
import { signReturnParams } from '../../lib/return-signature.ts';
import type { Checkout, Scope } from '../checkouts/checkout.types.ts';
import type { Order } from '../orders/order.types.ts';
import { findSigningSecret, insertSigningSecretIfMissing } from './signing-secret.repository.ts';

/**
 * The secret that signs return URLs (`src/lib/return-signature.ts`), one per merchant and mode, created on
 * first use: `kss_` + 256 random bits (base64url), stored encrypted under the keyring's `redirect-signature`
 * key. Creation races are settled by the primary key: every caller reads back the row that won.
 */

export type SigningSecret = { secret: string; createdAt: Date };

function newSigningSecret(): string {
  return `kss_${randomBytes(32).toString('base64url')}`;
}

export async function getSigningSecret(
  db: Queryable,
  keyring: Keyring,
  scope: Scope,
): Promise<SigningSecret> {
  let stored = await findSigningSecret(db, scope);
  if (!stored) {
    await insertSigningSecretIfMissing(db, scope, keyring.encrypt('redirect-signature', newSigningSecret()));
    stored = await findSigningSecret(db, scope);
    if (!stored) throw new Error('The signing secret was not stored');
  }
  return {
    secret: keyring.decrypt('redirect-signature', stored.encrypted).toString('utf8'),
    createdAt: stored.createdAt,
  };
}

/**
 * The merchant URL the shopper is sent to when the checkout is done (`completed`) or given up (`canceled`,
 * also used for an expired session), with `checkout_id`, `order_id`, `status` (the order's status),
 * `timestamp` and `signature` appended. Any parameters of the same names in the merchant's URL are replaced.
 */
export async function signedReturnUrl(
  db: Queryable,
  deps: { keyring: Keyring; clock: Clock },
  { checkout, order }: { checkout: Checkout; order: Order },
  kind: 'completed' | 'canceled',
): Promise<string> {
  const { secret } = await getSigningSecret(db, deps.keyring, {
    merchantId: checkout.merchantId,
    livemode: checkout.livemode,
  });
  const base = kind === 'completed' ? checkout.completedRedirectUrl : checkout.canceledRedirectUrl;
  const params = signReturnParams(
    { checkoutId: checkout.id, orderId: order.id, status: order.status },
    secret,
    deps.clock.now(),
  );
  return appendQueryParams(base, params);
}
