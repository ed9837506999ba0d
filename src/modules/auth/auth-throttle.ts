import { RateLimiterPostgres } from 'rate-limiter-flexible';
import type pg from 'pg';

/**
 * Throttling of repeated wrong client secrets, shared by every gateway process through PostgreSQL.
 *
 * Only FAILURES are counted, and they are counted per (client id, address) and per address. A client that
 * is being attacked from one address keeps working from its own address: valid traffic is never slowed by
 * somebody else's wrong guesses, and each check costs one indexed read.
 */

export const CLIENT_ADDRESS_FAILURE_LIMIT = 10;
export const ADDRESS_FAILURE_LIMIT = 50;
export const FAILURE_WINDOW_SECONDS = 600;

export type AuthThrottle = {
  /** Seconds to wait when the caller is over a limit, else 0. */
  retryAfterSeconds(clientId: string, address: string): Promise<number>;
  recordFailure(clientId: string, address: string): Promise<void>;
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
  const perAddress = new RateLimiterPostgres({
    ...common,
    keyPrefix: 'addr',
    points: ADDRESS_FAILURE_LIMIT,
    duration: FAILURE_WINDOW_SECONDS,
  });
  const clientAddressKey = (clientId: string, address: string) => `${clientId.slice(0, 80)}|${address}`;

  return {
    async retryAfterSeconds(clientId, address) {
      const [pair, addr] = await Promise.all([
        perClientAddress.get(clientAddressKey(clientId, address)),
        perAddress.get(address),
      ]);
      let waitMs = 0;
      if (pair && pair.consumedPoints >= CLIENT_ADDRESS_FAILURE_LIMIT)
        waitMs = Math.max(waitMs, pair.msBeforeNext);
      if (addr && addr.consumedPoints >= ADDRESS_FAILURE_LIMIT) waitMs = Math.max(waitMs, addr.msBeforeNext);
      return Math.ceil(waitMs / 1000);
    },
    async recordFailure(clientId, address) {
      // consume() rejects once a limit is passed; the rejection only means "still blocked".
      await Promise.all([
        perClientAddress.consume(clientAddressKey(clientId, address)).catch(() => {}),
        perAddress.consume(address).catch(() => {}),
      ]);
    },
  };
}
