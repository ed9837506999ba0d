import { closeOnSignals, serve as startGateway } from '../../main.ts';
import { loadCliConfig } from '../context.ts';
import type { CommandRun } from '../spec.ts';

/** `kassa serve`: the gateway, until SIGTERM / SIGINT (src/main.ts). */
export const serve: CommandRun = async () => {
  const config = loadCliConfig();
  const signals = closeOnSignals(); // before anything starts: see closeOnSignals
  signals.attach(await startGateway(config));
};
