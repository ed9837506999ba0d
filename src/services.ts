import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import type { Keyring } from './lib/keyring.ts';
import { createAccessTokenService, type AccessTokenService } from './modules/auth/access-token.service.ts';
import { createAuthThrottle, type AuthThrottle } from './modules/auth/auth-throttle.ts';
import { createSigningKeyStore, type SigningKeyStore } from './modules/auth/signing-keys.ts';

/**
 * The composition root: builds every service from configuration, a database and a keyring. `main.ts` and
 * the tests both call it, so tests run the same wiring as production with their own database and clock.
 */
export type Services = {
  config: Config;
  db: Database;
  clock: Clock;
  keyring: Keyring;
  signingKeys: SigningKeyStore;
  accessTokens: AccessTokenService;
  authThrottle: AuthThrottle;
};

export async function createServices(input: {
  config: Config;
  db: Database;
  keyring: Keyring;
  clock?: Clock;
}): Promise<Services> {
  const { config, db, keyring } = input;
  const clock = input.clock ?? systemClock;
  const signingKeys = createSigningKeyStore({
    db,
    keyring,
    clock,
    tokenTtlSeconds: config.accessTokenTtlSeconds,
    configuredPrivateKeyPem: config.jwtPrivateKeyPem,
  });
  await signingKeys.initialise();
  const accessTokens = createAccessTokenService({
    keys: signingKeys,
    clock,
    issuer: config.publicUrl,
    audience: `${config.publicUrl}/v1`,
    ttlSeconds: config.accessTokenTtlSeconds,
  });
  return {
    config,
    db,
    clock,
    keyring,
    signingKeys,
    accessTokens,
    authThrottle: createAuthThrottle(db.pool),
  };
}
