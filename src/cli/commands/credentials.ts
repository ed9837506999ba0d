import { openDatabase } from '../../db/open.ts';
import { revokeCredential as revoke } from '../../modules/merchants/credential.repository.ts';
import { loadCliConfig } from '../context.ts';
import { CommandError } from '../errors.ts';
import { print, quietLogger } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/** `kassa credentials revoke ID`: an OAuth client (cli_…) or an API key (key_…). */
export const revokeCredential: CommandRun = async ({ args: [id] }) => {
  const config = loadCliConfig();
  const database = await openDatabase(config, quietLogger);
  const revoked = await revoke(database.db, id!);
  await database.close();
  if (!revoked) throw new CommandError(`no active credential ${id}`);
  print(`revoked ${id} (cached sessions end within 30 seconds)`);
};
