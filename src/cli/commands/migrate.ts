import { openDatabase } from '../../db/open.ts';
import { migrationStatus } from '../../db/migrate.ts';
import { CommandError } from '../errors.ts';
import { loadCliConfig } from '../context.ts';
import { print, quietLogger } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/**
 * `kassa migrate`: applies pending migrations (src/db/migrate.ts) whatever KASSA_AUTO_MIGRATE says — it is the
 * job that runs them when the app does not — and reports them.
 */
export const migrate: CommandRun = async () => {
  const config = loadCliConfig();
  const database = await openDatabase(config, quietLogger, { schema: 'migrate', poolMax: 2 });
  const { applied, alreadyApplied } = database.migrations;
  print(applied.length ? `applied: ${applied.join(', ')}` : `up to date (${alreadyApplied} migrations)`);
  await database.close();
};

/** `kassa migrate status`: every migration, applied or pending, and any edited since it was applied. Changes nothing. */
export const migrateStatus: CommandRun = async ({ options }) => {
  const config = loadCliConfig();
  const database = await openDatabase(config, quietLogger, { schema: 'none', poolMax: 1 });
  try {
    const states = await migrationStatus(database.db);
    if (options.json) {
      print(JSON.stringify(states, null, 2));
    } else {
      for (const state of states) {
        const status = !state.applied
          ? 'pending'
          : state.edited
            ? 'applied, EDITED SINCE (checksum mismatch)'
            : state.unknown
              ? 'applied, no such file here (applied by a newer release?)'
              : state.checksumMissing
                ? 'applied (checksum not recorded yet: run kassa migrate)'
                : 'applied';
        const when = state.appliedAt ? `  ${state.appliedAt.toISOString()}` : '';
        print(`${state.version.padEnd(44)} ${status}${when}`);
      }
      const pending = states.filter((state) => !state.applied).length;
      const edited = states.filter((state) => state.edited).length;
      print(`${states.length - pending} applied, ${pending} pending${edited ? `, ${edited} edited` : ''}`);
    }
    const edited = states.filter((state) => state.edited);
    if (edited.length) {
      throw new CommandError(
        `edited after it was applied: ${edited.map((state) => `${state.version}.sql`).join(', ')}`,
      );
    }
  } finally {
    await database.close();
  }
};
