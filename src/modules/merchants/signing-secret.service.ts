import { randomBytes } from 'node:crypto';
import type { Queryable, UnitOfWork } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { appendQueryParams } from '../../lib/merchant-urls.ts';
import { signReturnParams } from '../../lib/return-signature.ts';
import { recordAuditNow } from '../audit/audit.service.ts';
import type { Checkout, Scope } from '../checkouts/checkout.types.ts';
import type { Order } from '../orders/order.types.ts';
import {
  findSigningSecret,
  insertSigningSecretIfMissing,
  replaceSigningSecret,
  type StoredSigningSecret,
} from './signing-secret.repository.ts';

/**
 * The secret that signs return URLs (`src/lib/return-signature.ts`), one per merchant and mode, created on
 * first use: `kss_` + 256 random bits (base64url), stored encrypted under the keyring's `redirect-signature`
 * key. Creation races are settled by the primary key: every caller reads back the row that won.
 *
 * Rolling (`POST /v1/merchant/signing-secret/roll`) replaces it and keeps the previous secret for an overlap.
 * During the overlap return URLs carry two signatures (docs/redirects.md, "Rolling the secret"): `signature`
 * still made with the previous secret — so a verifier that knows only the secret it had keeps working,
 * unchanged — and `next_signature` made with the new one, for verifiers already given the new secret.
 */

export type SigningSecret = {
  id: string;
  secret: string;
  createdAt: Date;
  /** The rolled-over secret while its overlap lasts. */
  previous: { secret: string; expiresAt: Date } | undefined;
};

function decryptSigningSecret(keyring: Keyring, stored: StoredSigningSecret, now: Date): SigningSecret {
  const previousActive =
    stored.previousEncrypted !== null && stored.previousExpiresAt !== null && stored.previousExpiresAt > now;
  return {
    id: stored.id,
    secret: keyring.decrypt('redirect-signature', stored.encrypted).toString('utf8'),
    createdAt: stored.createdAt,
    previous: previousActive
      ? {
          secret: keyring.decrypt('redirect-signature', stored.previousEncrypted!).toString('utf8'),
          expiresAt: stored.previousExpiresAt!,
        }
      : undefined,
  };
}

function newSigningSecret(): string {
  return `kss_${randomBytes(32).toString('base64url')}`;
}

export async function getSigningSecret(
  db: Queryable,
  keyring: Keyring,
  scope: Scope,
  now: Date = new Date(),
): Promise<SigningSecret> {
  let stored = await findSigningSecret(db, scope);
  if (!stored) {
    await insertSigningSecretIfMissing(db, scope, keyring.encrypt('redirect-signature', newSigningSecret()));
    stored = await findSigningSecret(db, scope);
    if (!stored) throw new Error('The signing secret was not stored');
  }
  return decryptSigningSecret(keyring, stored, now);
}

/**
 * A new secret for this merchant and mode; the current one keeps signing `signature` for `overlapSeconds`.
 * Audited (`signing_secret.rolled`) and an event of that type, whose data names the mode and the overlap —
 * never a secret.
 */
export async function rollSigningSecret(
  tx: UnitOfWork,
  keyring: Keyring,
  scope: Scope,
  overlapSeconds: number,
  now: Date,
): Promise<SigningSecret> {
  await insertSigningSecretIfMissing(tx, scope, keyring.encrypt('redirect-signature', newSigningSecret()));
  await findSigningSecret(tx, scope, { forUpdate: true });
  const stored = await replaceSigningSecret(
    tx,
    scope,
    keyring.encrypt('redirect-signature', newSigningSecret()),
    new Date(now.getTime() + overlapSeconds * 1000),
  );
  const rolled = decryptSigningSecret(keyring, stored, now);
  const data = {
    id: rolled.id,
    object: 'signing_secret',
    livemode: scope.livemode,
    created_at: rolled.createdAt.toISOString(),
    previous_secret_expires_at: rolled.previous?.expiresAt.toISOString() ?? null,
  };
  await recordAuditNow(tx, {
    merchantId: scope.merchantId,
    action: 'signing_secret.rolled',
    objectType: 'signing_secret',
    details: data,
  });
  tx.emit({ merchantId: scope.merchantId, livemode: scope.livemode, type: 'signing_secret.rolled', data });
  return rolled;
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
  const now = deps.clock.now();
  const { secret, previous } = await getSigningSecret(
    db,
    deps.keyring,
    { merchantId: checkout.merchantId, livemode: checkout.livemode },
    now,
  );
  const base = kind === 'completed' ? checkout.completedRedirectUrl : checkout.canceledRedirectUrl;
  const params = signReturnParams(
    { checkoutId: checkout.id, orderId: order.id, status: order.status },
    previous ? { secret: previous.secret, nextSecret: secret } : { secret },
    now,
  );
  return appendQueryParams(base, params);
}
