import { resolveKeyring } from '../../bootstrap.ts';
import { openDatabase } from '../../db/open.ts';
import { rotateMasterKey } from '../../modules/master-key/master-key-rotation.ts';
import { loadCliConfig } from '../context.ts';
import { UsageError } from '../errors.ts';
import { print, quietLogger } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/**
 * `kassa master-key rotate`: re-seals every sealed value under KASSA_MASTER_KEY, opening the old ones with
 * KASSA_MASTER_KEY_PREVIOUS (src/modules/master-key/master-key-rotation.ts). Safe to stop and run again.
 */
export const rotateMasterKeyCommand: CommandRun = async ({ options }) => {
  const batchSize = options['batch-size'] === undefined ? 500 : Number(options['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new UsageError('--batch-size must be a whole number from 1 to 10000', ['master-key', 'rotate']);
  const config = loadCliConfig();
  const database = await openDatabase(config, quietLogger);
  try {
    const keyring = await resolveKeyring(config, quietLogger);
    const report = await rotateMasterKey(database.db, keyring, { batchSize });
    if (options.json) {
      print(JSON.stringify(report, null, 2));
      return;
    }
    print(`current master key ${report.keyId}`);
    for (const column of report.columns) {
      const extra = [
        column.unreadable > 0 ? `${column.unreadable} unreadable` : '',
        column.skipped > 0 ? `${column.skipped} changed meanwhile` : '',
      ].filter(Boolean);
      print(
        `  ${`${column.table}.${column.column}`.padEnd(50)} ${String(column.resealed).padStart(7)} re-sealed${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`,
      );
    }
    print(`re-sealed ${report.resealed} value(s)`);
    if (report.complete) {
      print(
        'Every sealed value is under the current key: KASSA_MASTER_KEY_PREVIOUS can be removed once every gateway process runs with this KASSA_MASTER_KEY and one card-decline window (KASSA_CARD_DECLINE_WINDOW_SECONDS) has passed since (card fingerprints and signed URLs are still matched under it until then).',
      );
    } else {
      print(
        `${report.remaining} value(s) are still under another key${report.unreadable > 0 ? ` (${report.unreadable} that no configured key opens: add the key that sealed them to KASSA_MASTER_KEY_PREVIOUS)` : ' (a process still running with the old key as KASSA_MASTER_KEY?)'}; keep KASSA_MASTER_KEY_PREVIOUS and run this command again.`,
      );
      process.exitCode = 3;
    }
  } finally {
    await database.close();
  }
};
