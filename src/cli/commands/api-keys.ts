import type { Database } from '../../db/client.ts';
import { sha256 } from '../../lib/hashing.ts';
import { AppError } from '../../lib/errors.ts';
import { FULL_ACCESS } from '../../modules/auth/scopes.ts';
import {
  DEFAULT_ROLL_OVERLAP_SECONDS,
  MAX_ROLL_OVERLAP_SECONDS,
  createApiKey,
  revokeApiKey,
  revokeOAuthClient,
  rollApiKey,
  scopesHeld,
} from '../../modules/merchants/api-key.service.ts';
import {
  findApiKeyByDigest,
  findCredentialStatus,
  listApiKeys,
  type StoredApiKey,
} from '../../modules/merchants/credential.repository.ts';
import { presentApiKey } from '../../modules/merchants/credential.presenter.ts';
import { findMerchantById } from '../../modules/merchants/merchant.repository.ts';
import { withDatabase } from '../context.ts';
import { CommandError, UsageError } from '../errors.ts';
import { print } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/**
 * `kassa api-keys list|create|roll|revoke` for an existing merchant, as the operator (every scope). A key is
 * named by its id (`key_…`) or by the key itself (`sk_…` / `rk_…`, looked up by its digest); `revoke` also
 * takes an OAuth client id (`cli_…`), which keeps `kassa credentials revoke` working as an alias.
 */

/** The credential id a command line names: an id as it is, a key by its digest. */
async function resolveCredentialId(db: Database, keyOrId: string): Promise<string | undefined> {
  if (/^(sk|rk)_(test|live)_/.test(keyOrId)) return (await findApiKeyByDigest(db, sha256(keyOrId)))?.id;
  return keyOrId;
}

function describeKey(key: StoredApiKey): string {
  const state = key.expiresAt ? `expires ${key.expiresAt.toISOString()}` : 'active';
  const scopes = key.type === 'secret' ? 'every scope' : scopesHeld(key).join(' ');
  const used = key.lastUsedAt ? `last used ${key.lastUsedAt.toISOString()}` : 'never used';
  return `${key.id}  ${key.keyHint}  ${key.livemode ? 'live' : 'test'}  ${key.type}  ${state}  ${used}  ${scopes}${key.name ? `  "${key.name}"` : ''}`;
}

/** The key as the API shows it (`credential.presenter.ts`), with the secret when it was just made. */
function keyJson(key: StoredApiKey, secret?: string) {
  return { ...presentApiKey(key, new Date()), ...(secret ? { secret } : {}) };
}

/** AppErrors from the services (a refused scope list, an already rolled key) are the operator's to fix. */
function operatorError(error: unknown): never {
  if (error instanceof AppError) throw new CommandError(error.message);
  throw error;
}

export const listKeys: CommandRun = async ({ options }) => {
  const merchantId = String(options.merchant);
  await withDatabase(async (db) => {
    if (!(await findMerchantById(db, merchantId))) throw new CommandError(`no merchant ${merchantId}`);
    const keys = await listApiKeys(db, { merchantId }, { limit: 1000 });
    if (options.json)
      print(
        JSON.stringify(
          keys.map((key) => keyJson(key)),
          null,
          2,
        ),
      );
    else if (keys.length === 0) print(`no API keys for ${merchantId}`);
    else for (const key of keys) print(describeKey(key));
  });
};

export const createKey: CommandRun = async ({ options }) => {
  const merchantId = String(options.merchant);
  const type = options.type ?? 'secret';
  if (type !== 'secret' && type !== 'restricted')
    throw new UsageError('--type must be secret or restricted', ['api-keys', 'create']);
  const scopes =
    typeof options.scopes === 'string' ? options.scopes.split(/[\s,]+/).filter(Boolean) : undefined;
  if (type === 'restricted' && !scopes)
    throw new UsageError('a restricted key needs --scopes (e.g. checkouts,orders:read)', [
      'api-keys',
      'create',
    ]);
  if (type === 'secret' && scopes)
    throw new UsageError('--scopes is for restricted keys; a secret key holds every scope', [
      'api-keys',
      'create',
    ]);
  const livemode = options.live === true;
  await withDatabase(async (db) => {
    if (!(await findMerchantById(db, merchantId))) throw new CommandError(`no merchant ${merchantId}`);
    const { key, secret } = await db
      .transaction((tx) =>
        createApiKey(
          tx,
          { merchantId, livemode, scopes: new Set(FULL_ACCESS) },
          {
            type,
            scopes,
            name: typeof options.name === 'string' ? options.name : null,
          },
        ),
      )
      .catch(operatorError);
    if (options.json) print(JSON.stringify(keyJson(key, secret), null, 2));
    else {
      print(describeKey(key));
      print(`  key: ${secret}`);
      print('The key is shown only now; store it safely.');
    }
  });
};

export const rollKey: CommandRun = async ({ args: [keyOrId], options }) => {
  const overlap =
    options['expire-previous-in-seconds'] === undefined
      ? DEFAULT_ROLL_OVERLAP_SECONDS
      : Number(options['expire-previous-in-seconds']);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_ROLL_OVERLAP_SECONDS) {
    throw new UsageError(
      `--expire-previous-in-seconds must be a whole number from 0 to ${MAX_ROLL_OVERLAP_SECONDS}`,
      ['api-keys', 'roll'],
    );
  }
  await withDatabase(async (db) => {
    const id = await resolveCredentialId(db, keyOrId!);
    const status = id?.startsWith('key_') ? await findCredentialStatus(db, id) : undefined;
    if (!id || !status || status.revokedAt) throw new CommandError(`no active API key ${keyOrId}`);
    const { key, secret, previous } = await db
      .transaction((tx) =>
        rollApiKey(
          tx,
          { merchantId: status.merchantId, livemode: status.livemode, scopes: new Set(FULL_ACCESS) },
          id,
          overlap,
          new Date(),
        ),
      )
      .catch(operatorError);
    if (options.json) print(JSON.stringify(keyJson(key, secret), null, 2));
    else {
      print(describeKey(key));
      print(`  key: ${secret}`);
      print(
        overlap === 0
          ? `${previous.id} stopped working now (every gateway refuses it within 1 second).`
          : `${previous.id} keeps working for ${overlap} seconds.`,
      );
      print('The key is shown only now; store it safely.');
    }
  });
};

export const revokeKey: CommandRun = async ({ args: [keyOrId] }) => {
  await withDatabase(async (db) => {
    const id = await resolveCredentialId(db, keyOrId!);
    const status = id && /^(key|cli)_/.test(id) ? await findCredentialStatus(db, id) : undefined;
    if (!id || !status || status.revokedAt) throw new CommandError(`no active credential ${keyOrId}`);
    const owner = { merchantId: status.merchantId, livemode: status.livemode };
    await db
      .transaction(async (tx) => {
        if (id.startsWith('cli_')) await revokeOAuthClient(tx, owner, id, new Date());
        else await revokeApiKey(tx, owner, id, new Date());
      })
      .catch(operatorError);
    print(`revoked ${id} (every gateway refuses it within 1 second)`);
  });
};
