import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type pg from 'pg';
import { apiClientExists } from '../merchants/merchant.service.ts';

/**
 * Throttling of client-secret guesses at `POST /v1/oauth/tokens`, shared by every gateway process through
 * PostgreSQL (rate-limiter-flexible's store, table `auth_failures`).
 *
 * Two rules, each protecting something without letting one party's failures refuse another's correct secret:
 * - per (client id, address): at most `CLIENT_ADDRESS_FAILURE_LIMIT` guesses at one real client's secret from
 *   one address per window. The attempt is RESERVED before the secret is verified — one
 *   `INSERT … ON CONFLICT DO UPDATE … RETURNING points` statement, so parallel guesses cannot all pass a check
 *   made before any of them is counted — and given back when the secret was right (only failures count).
 *   Other addresses, and other clients at the same address, are not affected.
 * - per address, for client ids that do not exist: at most `UNKNOWN_CLIENT_ADDRESS_LIMIT` attempts per window,
 *   counted in one row per address (so made-up ids cannot grow the table without bound). It never applies to a
 *   real client id: a gateway behind a proxy (or many merchants behind one NAT) share an address, and made-up
 *   ids sent from it must not lock every merchant out.
 * What is left: someone at the same address as a client, guessing that client's own id, holds that client at
 * that address back for the rest of the window; an id is not a secret, the window is short, and the client's
 * other addresses keep working. Client ids are not secret, so answering 429 earlier for unknown ids tells an
 * attacker nothing worth having.
 */

export const CLIENT_ADDRESS_FAILURE_LIMIT = 10;
export const UNKNOWN_CLIENT_ADDRESS_LIMIT = 50;
export const FAILURE_WINDOW_SECONDS = 600;

export type AuthAttempt =
  | { allowed: true; /** Gives the reservation back: the secret was right. */ succeeded(): Promise<void> }
  | { allowed: false; retryAfterSeconds: number };

export type AuthThrottle = {
  /** Counts this attempt before the secret is verified; refused when over the limit. */
  reserveAttempt(clientId: string, address: string): Promise<AuthAttempt>;
};

export function createAuthThrottle(pool: pg.Pool): AuthThrottle {
  const common = {
    storeClient: pool,
    storeType: 'pool',
    tableName: 'auth_failures',
    tableCreated: true,
    clearExpiredByTimeout: false,
  };
  const perClientAddress = new RateLimiterPostgres({
    ...common,
    keyPrefix: 'client_addr',
    points: CLIENT_ADDRESS_FAILURE_LIMIT,
    duration: FAILURE_WINDOW_SECONDS,
  });
  const unknownClientsPerAddress = new RateLimiterPostgres({
    ...common,
    keyPrefix: 'unknown_client_addr',
    points: UNKNOWN_CLIENT_ADDRESS_LIMIT,
    duration: FAILURE_WINDOW_SECONDS,
  });

  return {
    async reserveAttempt(clientId, address) {
      const known = clientId.length <= 64 && (await apiClientExists(pool, clientId));
      const [limiter, key] = known
        ? [perClientAddress, `${clientId}|${address}`]
        : [unknownClientsPerAddress, address];
      try {
        await limiter.consume(key);
      } catch (refusal) {
        // consume() rejects with the counter (over the limit; the attempt was still counted) or a store error.
        if (!(refusal instanceof RateLimiterRes)) throw refusal;
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
      }
      return {
        allowed: true,
        async succeeded() {
          await limiter.reward(key, 1);
        },
      };
    },
  };
}
