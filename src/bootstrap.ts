import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.ts';
import { openDatabase, type OpenedDatabase } from './db/open.ts';
import { createKeyring, generateMasterKey, parseMasterKey, type Keyring } from './lib/keyring.ts';
import { createServices, type Services } from './services.ts';

type Logger = { info(msg: string): void; warn(msg: string): void };

/**
 * The master key: configured (required in production), or — for development only — generated once and
 * kept in `<dataDir>/master.key` so encrypted data and signing keys survive restarts.
 */
export async function resolveKeyring(config: Config, logger: Logger): Promise<Keyring> {
  const previous = config.previousMasterKeys.map(parseMasterKey);
  if (config.masterKey) return createKeyring(parseMasterKey(config.masterKey), previous);
  const file = path.join(config.dataDir, 'master.key');
  if (!existsSync(file)) {
    await mkdir(config.dataDir, { recursive: true, mode: 0o755 });
    await writeFile(file, `${generateMasterKey()}\n`, { mode: 0o600 });
    logger.warn(`generated a development master key in ${file}; set KASSA_MASTER_KEY in production`);
  }
  return createKeyring(parseMasterKey(await readFile(file, 'utf8')), previous);
}

/** Database (migrated), keyring and services: everything `serve` and the CLI commands need. */
export async function bootstrap(
  config: Config,
  logger: Logger,
): Promise<{ services: Services; database: OpenedDatabase }> {
  const database = await openDatabase(config, logger);
  try {
    const keyring = await resolveKeyring(config, logger);
    const services = await createServices({ config, db: database.db, keyring });
    return { services, database };
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
}
