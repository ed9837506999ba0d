import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import { isUniqueViolation, type Database } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { recordAuditNow } from '../audit/audit.service.ts';
import {
  demoteActiveKey,
  findVerifyingKeys,
  insertKey,
  promoteNextKey,
  retireExpiredKeys,
  type SigningKeyRow,
} from './signing-key.repository.ts';

/**
 * The asymmetric keys that sign access tokens (RS256, as RFC 9068 requires every implementation to support).
 *
 * Keys live in the database so every gateway process signs and verifies with the same set. Rotation without
 * downtime, "publish before use":
 * 1. `rotate()` inserts a `next` key: it is published in JWKS and verifies, but nobody signs with it yet;
 * 2. once it has been published for longer than every process's refresh interval, the first process to
 *    reload promotes it to `active` and demotes the old key to `retiring`;
 * 3. the retiring key keeps verifying for one token lifetime plus a margin, then is retired and its private
 *    half erased.
 * So no process ever meets a token signed by a key it has not loaded. (An unknown `kid` still triggers a
 * throttled reload, as a safety net.)
 */

export const TOKEN_ALGORITHM = 'RS256';
const REFRESH_INTERVAL_MS = 60_000;
/** A `next` key is used for signing only after every process has had time to load it. */
export const KEY_PUBLICATION_DELAY_MS = REFRESH_INTERVAL_MS + 10_000;
const UNKNOWN_KID_REFRESH_MIN_INTERVAL_MS = 1_000;
const RETIREMENT_MARGIN_SECONDS = 300;

type LoadedKeys = {
  loadedAt: number;
  signing: { kid: string; key: CryptoKey } | undefined;
  verifying: Map<string, CryptoKey>;
  publicJwks: JWK[];
};

export type SigningKeyStore = {
  /** Makes sure an active key exists (generated, or imported from configuration) and loads the set. */
  initialise(): Promise<void>;
  signingKey(): Promise<{ kid: string; key: CryptoKey }>;
  verificationKey(kid: string): Promise<CryptoKey | undefined>;
  publicJwks(): Promise<JWK[]>;
  rotate(): Promise<{ kid: string; signsFrom: Date }>;
  refresh(): Promise<void>;
};

export function createSigningKeyStore(deps: {
  db: Database;
  keyring: Keyring;
  clock: Clock;
  tokenTtlSeconds: number;
  configuredPrivateKeyPem?: string | undefined;
}): SigningKeyStore {
  const { db, keyring, clock } = deps;
  let loaded: LoadedKeys | undefined;
  let lastUnknownKidRefresh = 0;

  async function load(): Promise<LoadedKeys> {
    const now = clock.now();
    await retireExpiredKeys(db, now);
    await db.transaction((tx) =>
      promoteNextKey(tx, new Date(now.getTime() - KEY_PUBLICATION_DELAY_MS), retirementDate(now)),
    );
    const rows = await findVerifyingKeys(db);
    const verifying = new Map<string, CryptoKey>();
    let signing: LoadedKeys['signing'];
    for (const row of rows) {
      verifying.set(row.kid, (await importJWK(row.public_jwk, TOKEN_ALGORITHM)) as CryptoKey);
      if (row.status === 'active' && row.private_jwk_encrypted)
        signing = { kid: row.kid, key: await decryptPrivateKey(row) };
    }
    loaded = {
      loadedAt: now.getTime(),
      signing,
      verifying,
      publicJwks: rows.map((row) => ({ ...row.public_jwk, kid: row.kid, alg: TOKEN_ALGORITHM, use: 'sig' })),
    };
    return loaded;
  }

  async function current(): Promise<LoadedKeys> {
    if (!loaded || clock.now().getTime() - loaded.loadedAt > REFRESH_INTERVAL_MS) return load();
    return loaded;
  }

  async function decryptPrivateKey(row: SigningKeyRow): Promise<CryptoKey> {
    let plaintext: Buffer;
    try {
      plaintext = keyring.decrypt('signing-key-encryption', row.private_jwk_encrypted!);
    } catch (error) {
      throw new Error(
        `The token signing key ${row.kid} cannot be decrypted with this master key. Was KASSA_MASTER_KEY ` +
          '(or <data dir>/master.key) changed? Restore the original key; data encrypted with it is unreadable otherwise.',
        { cause: error },
      );
    }
    return (await importJWK(JSON.parse(plaintext.toString('utf8')) as JWK, TOKEN_ALGORITHM)) as CryptoKey;
  }

  async function sealNewKey(privateKey: CryptoKey, publicKey: CryptoKey) {
    const publicJwk = await exportJWK(publicKey);
    const privateJwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    return {
      kid,
      algorithm: TOKEN_ALGORITHM,
      publicJwk,
      privateJwkEncrypted: keyring.encrypt('signing-key-encryption', JSON.stringify(privateJwk)),
    };
  }

  async function generateKey() {
    const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, {
      extractable: true,
      modulusLength: 2048,
    });
    return sealNewKey(privateKey, publicKey);
  }

  async function configuredKey() {
    const privateKey = await importPKCS8(deps.configuredPrivateKeyPem!, TOKEN_ALGORITHM, {
      extractable: true,
    });
    const privateJwk = await exportJWK(privateKey);
    // The public half of an RSA JWK is its modulus and exponent.
    const publicKey = (await importJWK(
      { kty: privateJwk.kty, n: privateJwk.n, e: privateJwk.e },
      TOKEN_ALGORITHM,
      {
        extractable: true,
      },
    )) as CryptoKey;
    return sealNewKey(privateKey, publicKey);
  }

  function retirementDate(now: Date): Date {
    return new Date(now.getTime() + (deps.tokenTtlSeconds + RETIREMENT_MARGIN_SECONDS) * 1000);
  }

  /** A configured key replaces the active one at once (an operator's decision at start-up). */
  async function installActiveKey(sealed: Awaited<ReturnType<typeof generateKey>>) {
    await db.transaction(async (tx) => {
      await demoteActiveKey(tx, retirementDate(clock.now()));
      await insertKey(tx, sealed, 'active', clock.now());
    });
  }

  return {
    async initialise() {
      let keys = await load();
      if (deps.configuredPrivateKeyPem) {
        const sealed = await configuredKey();
        if (keys.signing?.kid !== sealed.kid) {
          await installActiveKey(sealed).catch((error) => {
            if (!isUniqueViolation(error)) throw error; // another process installed it at the same moment
          });
          keys = await load();
        }
      }
      if (!keys.signing) {
        try {
          const sealed = await generateKey();
          await insertKey(db, sealed, 'active', clock.now());
        } catch (error) {
          // Several processes starting together: exactly one active key wins (partial unique index).
          if (!isUniqueViolation(error)) throw error;
        }
        await load();
      }
    },
    async signingKey() {
      const keys = await current();
      if (!keys.signing) throw new Error('No active token signing key; the key store was not initialised');
      return keys.signing;
    },
    async verificationKey(kid) {
      let keys = await current();
      const found = keys.verifying.get(kid);
      if (found) return found;
      // A kid we do not know may come from a rotation in another process; reload, but not on every forgery.
      if (Date.now() - lastUnknownKidRefresh < UNKNOWN_KID_REFRESH_MIN_INTERVAL_MS) return undefined;
      lastUnknownKidRefresh = Date.now();
      keys = await load();
      return keys.verifying.get(kid);
    },
    async publicJwks() {
      return (await current()).publicJwks;
    },
    async rotate() {
      const sealed = await generateKey();
      await db.transaction(async (tx) => {
        // A rotation requested while another is still being published replaces that unused key.
        await tx.query(
          `UPDATE signing_keys SET status = 'retired', private_jwk_encrypted = NULL WHERE status = 'next'`,
        );
        await insertKey(tx, sealed, 'next', clock.now());
        // The token-signing key is the whole gateway's, no one merchant's: audited without a merchant.
        await recordAuditNow(tx, {
          merchantId: null,
          action: 'signing_key.rotated',
          objectType: 'signing_key',
          objectId: sealed.kid,
          details: { signs_from: new Date(clock.now().getTime() + KEY_PUBLICATION_DELAY_MS).toISOString() },
        });
      });
      await load();
      return { kid: sealed.kid, signsFrom: new Date(clock.now().getTime() + KEY_PUBLICATION_DELAY_MS) };
    },
    async refresh() {
      await load();
    },
  };
}
