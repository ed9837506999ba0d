import type { UnitOfWork } from '../../db/client.ts';
import { AppError, notFoundError, validationError } from '../../lib/errors.ts';
import { sha256 } from '../../lib/hashing.ts';
import { newId, newSecret } from '../../lib/ids.ts';
import { recordAuditNow } from '../audit/audit.service.ts';
import { FULL_ACCESS, isWithin, parseScopes, type Scope } from '../auth/scopes.ts';
import type { EventType } from '../events/event.types.ts';
import {
  expireApiKey,
  findApiKey,
  findOwnedApiClient,
  insertApiClient,
  insertApiKey,
  replaceApiClientSecret,
  revokeApiClientRow,
  revokeApiKeyRow,
  type ApiKeyType,
  type StoredApiClient,
  type StoredApiKey,
} from './credential.repository.ts';
import { presentApiKey, presentOAuthClient } from './credential.presenter.ts';
import type { MerchantPrincipal } from './merchant.types.ts';

/**
 * Key management for an existing merchant, through `/v1/api-keys` and `/v1/oauth-clients` (and the `kassa
 * api-keys` command): create, roll with an overlap, revoke. Secrets are made here and returned once; only
 * their digests are stored.
 *
 * No escalation: a credential creates or rolls only credentials whose scopes are within its own (a secret
 * key, holding every scope, can be made or rolled only by a credential holding every scope). Revoking needs
 * only the `api_keys` scope — stopping a leaked key must not wait for a more powerful one.
 *
 * Every change is audited (audit_log, docs/security.md "Audit trail") and is an event (`api_key.created|
 * rolled|revoked`, `oauth_client.created|rolled|revoked`, data: the credential as the API shows it, never its
 * secret), both in the change's transaction and naming the actor of the work (the request's credential, or
 * the command line).
 */

type CredentialChange = 'created' | 'rolled' | 'revoked';

/** The audit entry and the event of one change to a key or client. */
async function recordCredentialChange(
  uow: UnitOfWork,
  change: CredentialChange,
  credential: StoredApiKey | StoredApiClient,
  now: Date,
  details: Record<string, unknown> = {},
): Promise<void> {
  const isKey = 'keyHint' in credential;
  const objectType = isKey ? 'api_key' : 'oauth_client';
  const hint = isKey ? credential.keyHint : credential.secretHint;
  await recordAuditNow(uow, {
    merchantId: credential.merchantId,
    action: `${objectType}.${change}`,
    objectType,
    objectId: credential.id,
    details: {
      livemode: credential.livemode,
      ...(hint ? { redacted_secret: hint } : {}),
      scopes: [...scopesHeld(credential)],
      ...details,
    },
  });
  uow.emit({
    merchantId: credential.merchantId,
    livemode: credential.livemode,
    type: `${objectType}.${change}` satisfies EventType,
    objectId: credential.id,
    objectVersion: credential.version,
    data: isKey ? presentApiKey(credential, now) : presentOAuthClient(credential, now),
  });
}

export const DEFAULT_ROLL_OVERLAP_SECONDS = 24 * 60 * 60;
export const MAX_ROLL_OVERLAP_SECONDS = 7 * 24 * 60 * 60;

export type Creator = Pick<MerchantPrincipal, 'merchantId' | 'livemode' | 'scopes'>;

function hintOf(secret: string, prefixLength: number): string {
  return `${secret.slice(0, prefixLength)}…${secret.slice(-4)}`;
}

function newApiKeySecret(type: ApiKeyType, livemode: boolean): string {
  return `${type === 'secret' ? 'sk' : 'rk'}_${livemode ? 'live' : 'test'}_${newSecret(32)}`;
}

/** The scopes a key or client holds: its own list, or every scope. */
export function scopesHeld(credential: { scopes: readonly Scope[] | null }): readonly Scope[] {
  return credential.scopes ?? FULL_ACCESS;
}

function refuseEscalation(creator: Creator, wanted: readonly Scope[], what: string) {
  if (isWithin(wanted, creator.scopes)) return;
  const missing = wanted.filter((scope) => !isWithin([scope], creator.scopes));
  throw new AppError(
    'forbidden',
    `These credentials may not ${what} with scopes they do not hold: ${missing.join(', ')}`,
    { extensions: { missing_scopes: missing } },
  );
}

/** Validates a requested scope list (unknown values are 422 field errors) and normalises it. */
export function requestedScopes(values: readonly string[], pointer = '/scopes'): Scope[] {
  const { scopes, unknown } = parseScopes(values);
  if (unknown.length > 0) {
    throw validationError(
      unknown.map((value) => ({
        pointer,
        code: 'invalid_value',
        message: `must be scopes such as "orders" or "orders:read"; got ${JSON.stringify(value)}`,
      })),
    );
  }
  if (scopes.length === 0)
    throw validationError([{ pointer, code: 'too_short', message: 'must name at least one scope' }]);
  return scopes;
}

export async function createApiKey(
  tx: UnitOfWork,
  creator: Creator,
  input: {
    type: ApiKeyType;
    scopes?: readonly string[];
    name?: string | null;
    metadata?: Record<string, string>;
  },
  options: { replaces?: string } = {},
): Promise<{ key: StoredApiKey; secret: string }> {
  let scopes: Scope[] | null = null;
  if (input.type === 'secret') {
    if (input.scopes !== undefined) {
      throw validationError([
        {
          pointer: '/scopes',
          code: 'not_allowed',
          message: 'must be left out for a secret key (it holds every scope)',
        },
      ]);
    }
    refuseEscalation(creator, FULL_ACCESS, 'create a secret key');
  } else {
    if (input.scopes === undefined)
      throw validationError([{ pointer: '/scopes', code: 'required', message: 'is required' }]);
    scopes = requestedScopes(input.scopes);
    refuseEscalation(creator, scopes, 'create a key');
  }
  const secret = newApiKeySecret(input.type, creator.livemode);
  const key = await insertApiKey(tx, {
    id: newId('key'),
    merchantId: creator.merchantId,
    livemode: creator.livemode,
    keySha256: sha256(secret),
    keyHint: hintOf(secret, 8),
    type: input.type,
    scopes,
    name: input.name ?? null,
    metadata: input.metadata ?? {},
  });
  await recordCredentialChange(
    tx,
    'created',
    key,
    new Date(),
    options.replaces ? { replaces: options.replaces } : {},
  );
  return { key, secret };
}

/**
 * A new key with the same type, scopes, name and metadata; the old one stays valid for `overlapSeconds`
 * (0: it stops now). A key that was rolled already is refused: roll its successor.
 */
export async function rollApiKey(
  tx: UnitOfWork,
  creator: Creator,
  id: string,
  overlapSeconds: number,
  now: Date,
): Promise<{ key: StoredApiKey; secret: string; previous: StoredApiKey }> {
  const previous = await findApiKey(tx, creator, id, { forUpdate: true });
  if (!previous) throw notFoundError('api_key', id);
  if (previous.expiresAt !== null) {
    throw new AppError('conflict', `API key ${id} was rolled already; roll the key that replaced it`);
  }
  refuseEscalation(creator, scopesHeld(previous), 'roll a key');
  const { key, secret } = await createApiKey(
    tx,
    creator,
    {
      type: previous.type,
      ...(previous.type === 'restricted' ? { scopes: previous.scopes! } : {}),
      name: previous.name,
      metadata: previous.metadata,
    },
    { replaces: previous.id },
  );
  const rolled = await expireApiKey(tx, previous.id, new Date(now.getTime() + overlapSeconds * 1000));
  await recordCredentialChange(tx, 'rolled', rolled, now, {
    replaced_by: key.id,
    expires_at: rolled.expiresAt?.toISOString() ?? null,
  });
  return { key, secret, previous: rolled };
}

export async function revokeApiKey(
  tx: UnitOfWork,
  owner: Owner,
  id: string,
  now: Date,
): Promise<StoredApiKey> {
  const revoked = id.startsWith('key_') ? await revokeApiKeyRow(tx, owner, id) : undefined;
  if (!revoked) throw notFoundError('api_key', id);
  await recordCredentialChange(tx, 'revoked', revoked, now);
  return revoked;
}

export async function createOAuthClient(
  tx: UnitOfWork,
  creator: Creator,
  input: { scopes?: readonly string[]; name?: string | null; metadata?: Record<string, string> },
): Promise<{ client: StoredApiClient; secret: string }> {
  let scopes: Scope[] | null;
  if (input.scopes === undefined) {
    // By default the client may have what its creator has (every scope: stored as "all", so scopes added to
    // the vocabulary later are included, as for secret keys).
    scopes = isWithin(FULL_ACCESS, creator.scopes) ? null : parseScopes([...creator.scopes]).scopes;
  } else {
    scopes = requestedScopes(input.scopes);
    refuseEscalation(creator, scopes, 'create an OAuth client');
  }
  const secret = newSecret(32);
  const client = await insertApiClient(tx, {
    id: newId('cli'),
    merchantId: creator.merchantId,
    livemode: creator.livemode,
    secretSha256: sha256(secret),
    secretHint: hintOf(secret, 0),
    scopes,
    name: input.name ?? null,
    metadata: input.metadata ?? {},
  });
  await recordCredentialChange(tx, 'created', client, new Date());
  return { client, secret };
}

/** A new secret for the same client id; the previous secret keeps working for `overlapSeconds`. */
export async function rollOAuthClientSecret(
  tx: UnitOfWork,
  creator: Creator,
  id: string,
  overlapSeconds: number,
  now: Date,
): Promise<{ client: StoredApiClient; secret: string }> {
  const current = await findOwnedApiClient(tx, creator, id, { forUpdate: true });
  if (!current) throw notFoundError('oauth_client', id);
  refuseEscalation(creator, scopesHeld(current), 'roll the secret of an OAuth client');
  const secret = newSecret(32);
  const client = await replaceApiClientSecret(
    tx,
    id,
    { sha256: sha256(secret), hint: hintOf(secret, 0) },
    new Date(now.getTime() + overlapSeconds * 1000),
  );
  await recordCredentialChange(tx, 'rolled', client, now, {
    previous_secret_expires_at: client.previousSecretExpiresAt?.toISOString() ?? null,
  });
  return { client, secret };
}

export async function revokeOAuthClient(
  tx: UnitOfWork,
  owner: Owner,
  id: string,
  now: Date,
): Promise<StoredApiClient> {
  const revoked = id.startsWith('cli_') ? await revokeApiClientRow(tx, owner, id) : undefined;
  if (!revoked) throw notFoundError('oauth_client', id);
  await recordCredentialChange(tx, 'revoked', revoked, now);
  return revoked;
}

type Owner = { merchantId: string; livemode: boolean };
