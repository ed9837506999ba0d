import { ConfigError, loadConfig, type Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { openDatabase } from '../db/open.ts';
import { parseMasterKey } from '../lib/keyring.ts';
import { noteDatabase } from './errors.ts';
import { quietLogger } from './output.ts';

/**
 * What the command modules share. Imported only by them, so `--help` never reads the configuration.
 */

/**
 * The configuration, checked further than `loadConfig` does: a configured master key that is too short is a
 * configuration error found now, before a database is started, rather than an error from deep in the start.
 */
export function loadCliConfig(): Config {
  const config = loadConfig();
  if (config.masterKey !== undefined) {
    try {
      parseMasterKey(config.masterKey);
    } catch {
      throw new ConfigError(
        'KASSA_MASTER_KEY must be at least 32 bytes, base64-encoded (make one with `openssl rand -base64 32`)',
      );
    }
  }
  noteDatabase(
    config.databaseUrl
      ? `DATABASE_URL ${describeDatabaseUrl(config.databaseUrl)}`
      : `embedded PostgreSQL in ${config.dataDir}`,
  );
  return config;
}

function describeDatabaseUrl(databaseUrl: string) {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || 5432}${url.pathname}`;
}

/** Runs `work` on the configured database, opened for it and closed after, whatever happens. */
export async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase(loadCliConfig(), quietLogger);
  try {
    return await work(database.db);
  } finally {
    await database.close();
  }
}
