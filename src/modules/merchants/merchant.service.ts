import type { Queryable } from '../../db/client.ts';
import { FULL_ACCESS, type Scope } from '../auth/scopes.ts';
import { digestsEqual, sha256 } from '../../lib/hashing.ts';
import { newId, newSecret } from '../../lib/ids.ts';
import { insertApiClient, insertApiKey, findApiClient } from './credential.repository.ts';
import { insertMerchant } from './merchant.repository.ts';
import type { IssuedCredentials, Merchant } from './merchant.types.ts';

/**
 * Merchants and their credentials. Secrets are 256-bit random strings: a fast digest (SHA-256) is the right
 * storage for them — slow password hashes exist for low-entropy human passwords, which these are not.
 * Each secret is returned exactly once, at creation.
 */

/** Run inside a transaction: the merchant and its first credentials exist together or not at all. */
export async function createMerchantWithCredentials(
  tx: Queryable,
  input: { name: string; livemode: boolean; cardDataPermitted?: boolean },
): Promise<{ merchant: Merchant; credentials: IssuedCredentials }> {
  const merchant = await insertMerchant(tx, {
    id: newId('mer'),
    name: input.name,
    cardDataPermitted: input.cardDataPermitted ?? false,
  });
  const credentials = await issueCredentials(tx, merchant.id, input.livemode);
  return { merchant, credentials };
}

/** A new client id/secret pair and a secret API key for one mode of an existing merchant. */
export async function issueCredentials(
  db: Queryable,
  merchantId: string,
  livemode: boolean,
): Promise<IssuedCredentials> {
  const clientId = newId('cli');
  const clientSecret = newSecret(32);
  const apiKey = `${livemode ? 'sk_live_' : 'sk_test_'}${newSecret(32)}`;
  await insertApiClient(db, { id: clientId, merchantId, livemode, secretSha256: sha256(clientSecret) });
  await insertApiKey(db, {
    id: newId('key'),
    merchantId,
    livemode,
    keySha256: sha256(apiKey),
    keyHint: `${apiKey.slice(0, 8)}…${apiKey.slice(-4)}`,
  });
  return { merchantId, livemode, clientId, clientSecret, apiKey };
}

/** Whether an OAuth client id exists (revoked or not): the sign-in throttle counts failures per known client. */
export async function apiClientExists(db: Queryable, clientId: string): Promise<boolean> {
  return (await findApiClient(db, clientId)) !== undefined;
}

// Other modules read a merchant through this file (or the cache), never the repository (eslint.config.js).
export { findMerchantById } from './merchant.repository.ts';

export type ClientAuthentication =
  | { ok: true; clientId: string; merchantId: string; livemode: boolean; scopes: readonly Scope[] }
  | { ok: false };

// A digest to compare against when the client id is unknown, so both failures cost the same time.
const UNKNOWN_CLIENT_DIGEST = sha256('kassa:unknown-client');

export async function authenticateClient(
  db: Queryable,
  clientId: string,
  clientSecret: string,
  now: Date,
): Promise<ClientAuthentication> {
  const client = clientId.length <= 64 ? await findApiClient(db, clientId) : undefined;
  const digest = sha256(clientSecret);
  const matches = digestsEqual(digest, client?.secretSha256 ?? UNKNOWN_CLIENT_DIGEST);
  // After a roll the previous secret works until its overlap ends.
  const matchesPrevious =
    client !== undefined &&
    client.previousSecretSha256 !== null &&
    client.previousSecretExpiresAt !== null &&
    client.previousSecretExpiresAt > now &&
    digestsEqual(digest, client.previousSecretSha256);
  if (!client || !(matches || matchesPrevious) || client.revokedAt) return { ok: false };
  return {
    ok: true,
    clientId: client.id,
    merchantId: client.merchantId,
    livemode: client.livemode,
    scopes: client.scopes ?? FULL_ACCESS,
  };
}
