import { bootstrap } from '../../bootstrap.ts';
import { loadCliConfig } from '../context.ts';
import { print, quietLogger } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/** `kassa keys rotate`: publish a new access-token signing key; it signs once caches have seen it. */
export const rotateSigningKey: CommandRun = async () => {
  const config = loadCliConfig();
  const { services, database } = await bootstrap(config, quietLogger);
  const { kid, signsFrom } = await services.signingKeys.rotate();
  await database.close();
  print(`new signing key ${kid} is published in JWKS now and signs tokens from ${signsFrom.toISOString()};`);
  print('tokens signed by the previous key stay valid until they expire');
};
