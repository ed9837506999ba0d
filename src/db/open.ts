import pg from 'pg';
import { ConfigError, type Config } from '../config.ts';
import { createDatabase, type Database } from './client.ts';
import { embeddedConnectionString, findRunningEmbeddedPort, startEmbeddedPostgres } from './embedded.ts';
import { migrate, type MigrationResult } from './migrate.ts';

export const EMBEDDED_DATABASE_NAME = 'kassa';

export type OpenedDatabase = {
  db: Database;
  /** Where the data lives, for the start-up banner (no credentials). */
  description: string;
  migrations: MigrationResult;
  close(): Promise<void>;
};

type Logger = { info(msg: string): void; warn(msg: string): void };

/**
 * Opens the database the configuration names — the server in DATABASE_URL, or the embedded server under
 * KASSA_DATA_DIR (started here, or joined when another local Kassa process already runs it) — and applies
 * pending migrations. The same code and migrations serve both.
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
  options: { poolMax?: number } = {},
): Promise<OpenedDatabase> {
  const poolMax = options.poolMax ?? config.dbPoolMax;
  if (config.databaseUrl) {
    const db = createDatabase({ connectionString: config.databaseUrl, max: poolMax });
    const migrations = await migrate(db);
    const url = new URL(config.databaseUrl);
    return {
      db,
      description: `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`,
      migrations,
      close: () => db.close(),
    };
  }

  if (config.environment === 'production' && !config.allowEmbeddedDatabase) {
    throw new ConfigError(
      'production needs DATABASE_URL (a PostgreSQL server you run and back up). The embedded PostgreSQL ' +
        'server is for development and tests; set KASSA_ALLOW_EMBEDDED_DB=true to use it in production anyway.',
    );
  }
  const runningPort = await findRunningEmbeddedPort(config.dataDir);
  let stopServer = async () => {};
  let port = runningPort;
  if (port === undefined) {
    const server = await startEmbeddedPostgres({ dataDir: config.dataDir, logger });
    port = server.port;
    stopServer = () => server.stop();
  }
  const adminUrl = embeddedConnectionString(config.dataDir, port, 'postgres');
  await ensureDatabaseExists(adminUrl, EMBEDDED_DATABASE_NAME);
  const db = createDatabase({
    connectionString: embeddedConnectionString(config.dataDir, port, EMBEDDED_DATABASE_NAME),
    max: poolMax,
  });
  try {
    const migrations = await migrate(db);
    return {
      db,
      description: `embedded PostgreSQL (data in ${config.dataDir}, port ${port})`,
      migrations,
      async close() {
        await db.close();
        await stopServer();
      },
    };
  } catch (error) {
    await db.close().catch(() => {});
    await stopServer();
    throw error;
  }
}

async function ensureDatabaseExists(adminUrl: string, name: string) {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
}
