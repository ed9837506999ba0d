import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, type JWK } from 'jose';
import { isUniqueViolation, type Database } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Keyring } from '../../lib/keyring.ts';
import {
  demoteActiveKey,
  findVerifyingKeys,
  insertActiveKey,
  retireExpiredKeys,
  type SigningKeyRow,
} from './signing-key.repository.ts';

/**
 * The asymmetric keys that sign access tokens (RS256, as RFC 9068 requires every implementation to support).
 *
 * Keys live in the database so every gateway process signs and verifies with the same set. Rotation without
 * downtime: `rotate()` demotes the active key to `retiring` (it keeps verifying for one token lifetime plus
 * a margin) and inserts a new active key. Each process reloads the set every `refreshIntervalMs`, and at
 * once when it meets an unknown `kid`, so tokens signed by a fresh key verify everywhere immediately.
 */

export const TOKEN_ALGORITHM = 'RS256';
const REFRESH_INTERVAL_MS = 60_000;
const UNKNOWN_KID_REFRESH_MIN_INTERVAL_MS = 2_000;
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
  rotate(): Promise<{ kid: string }>;
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
    await retireExpiredKeys(db, clock.now());
    const rows = await findVerifyingKeys(db);
    const verifying = new Map<string, CryptoKey>();
    let signing: LoadedKeys['signing'];
    for (const row of rows) {
      verifying.set(row.kid, (await importJWK(row.public_jwk, TOKEN_ALGORITHM)) as CryptoKey);
      if (row.status === 'active' && row.private_jwk_encrypted) signing = { kid: row.kid, key: await decryptPrivateKey(row) };
    }
    loaded = {
      loadedAt: Date.now(),
      signing,
      verifying,
      publicJwks: rows.map((row) => ({ ...row.public_jwk, kid: row.kid, alg: TOKEN_ALGORITHM, use: 'sig' })),
    };
    return loaded;
  }

  async function current(): Promise<LoadedKeys> {
    if (!loaded || Date.now() - loaded.loadedAt > REFRESH_INTERVAL_MS) return load();
    return loaded;
  }

  async function decryptPrivateKey(row: SigningKeyRow): Promise<CryptoKey> {
    const jwk = JSON.parse(keyring.decrypt('signing-key-encryption', row.private_jwk_encrypted!).toString('utf8')) as JWK;
    return (await importJWK(jwk, TOKEN_ALGORITHM)) as CryptoKey;
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
    const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, { extractable: true, modulusLength: 2048 });
    return sealNewKey(privateKey, publicKey);
  }

  async function configuredKey() {
    const privateKey = await importPKCS8(deps.configuredPrivateKeyPem!, TOKEN_ALGORITHM, { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    // The public half of an RSA JWK is its modulus and exponent.
    const publicKey = (await importJWK({ kty: privateJwk.kty, n: privateJwk.n, e: privateJwk.e }, TOKEN_ALGORITHM, {
      extractable: true,
    })) as CryptoKey;
    return sealNewKey(privateKey, publicKey);
  }

  async function installActiveKey(sealed: Awaited<ReturnType<typeof generateKey>>) {
    await db.transaction(async (tx) => {
      const retireAfter = new Date(clock.now().getTime() + (deps.tokenTtlSeconds + RETIREMENT_MARGIN_SECONDS) * 1000);
      await demoteActiveKey(tx, retireAfter);
      await insertActiveKey(tx, sealed);
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
          await db.transaction((tx) => generateKey().then((sealed) => insertActiveKey(tx, sealed)));
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
      await installActiveKey(sealed);
      await load();
      return { kid: sealed.kid };
    },
    async refresh() {
      await load();
    },
  };
}
