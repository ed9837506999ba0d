import path from 'node:path';
import { BackupError, backupEmbedded, restoreEmbedded } from '../../db/embedded-backup.ts';
import type { Config } from '../../config.ts';
import { loadCliConfig } from '../context.ts';
import { CommandError } from '../errors.ts';
import { print } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/** The embedded database only: an external server has its own tools (docs/operations.md, "Backups"). */
function embeddedOnly(config: Config, command: string) {
  if (config.databaseUrl) {
    throw new CommandError(
      `kassa ${command} works on the embedded database; with DATABASE_URL use the server's own tools ` +
        '(pg_basebackup and WAL archiving, pg_dump, or the managed service): see docs/operations.md, "Backups"',
    );
  }
}

function defaultBackupFolder(now: Date) {
  return path.resolve(`kassa-backup-${now.toISOString().replace(/[:.]/g, '-')}`);
}

/** `kassa backup [--to DIR]`: a consistent copy of the embedded database, online or with the gateway stopped. */
export const backup: CommandRun = async ({ options }) => {
  const config = loadCliConfig();
  embeddedOnly(config, 'backup');
  const now = new Date();
  const to = typeof options.to === 'string' ? path.resolve(options.to) : defaultBackupFolder(now);
  try {
    const manifest = await backupEmbedded({
      dataDir: config.dataDir,
      to,
      masterKeyConfigured: config.masterKey !== undefined,
      now,
    });
    print(
      `backed up the embedded database (${manifest.method}${
        manifest.method === 'online' ? `, WAL ${manifest.startLsn} … ${manifest.stopLsn}` : ''
      }) into ${to}`,
    );
    if (manifest.includesMasterKey) {
      print('the backup includes the development master key (master.key): keep it as secret as the data');
    } else {
      console.error(
        'warning: KASSA_MASTER_KEY is configured, so the backup does NOT contain the master key. Without that key ' +
          'the encrypted secrets in this backup cannot be read: keep the key, separately, for as long as the backup.',
      );
    }
  } catch (error) {
    if (error instanceof BackupError) throw new CommandError(error.message);
    throw error;
  }
};

/** `kassa restore --from DIR`: replaces the embedded database with a backup; refused while a gateway uses it. */
export const restore: CommandRun = async ({ options }) => {
  const config = loadCliConfig();
  embeddedOnly(config, 'restore');
  try {
    const { manifest, movedAside } = await restoreEmbedded({
      dataDir: config.dataDir,
      from: String(options.from),
      masterKeyConfigured: config.masterKey !== undefined,
    });
    print(
      `restored the backup of ${manifest.createdAt} (${manifest.method}) into ${path.resolve(config.dataDir)}`,
    );
    for (const aside of movedAside)
      print(`the previous ${path.basename(aside).split('.before')[0]} is kept in ${aside}`);
    if (manifest.includesMasterKey && config.masterKey !== undefined) {
      console.error(
        'warning: KASSA_MASTER_KEY is set and takes precedence over the restored master.key: it must be the key ' +
          'the backup was made with, or unset it to use the restored one.',
      );
    }
    print('start the gateway: the server replays the backup’s WAL on its first start');
  } catch (error) {
    if (error instanceof BackupError) throw new CommandError(error.message);
    throw error;
  }
};
