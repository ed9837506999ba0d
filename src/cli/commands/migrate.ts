import { openDatabase } from '../../db/open.ts';
import { loadCliConfig } from '../context.ts';
import { print, quietLogger } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/** `kassa migrate`: opening the database applies pending migrations (src/db/migrate.ts); this reports them. */
export const migrate: CommandRun = async () => {
  const config = loadCliConfig();
  const database = await openDatabase(config, quietLogger);
  const { applied, alreadyApplied } = database.migrations;
  print(applied.length ? `applied: ${applied.join(', ')}` : `up to date (${alreadyApplied} migrations)`);
  await database.close();
};
