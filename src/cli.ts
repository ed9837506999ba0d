import { runCli } from './cli/dispatch.ts';

/**
 * The `kassa` command's entry module (bin/kassa.js imports it). Kept tiny: the dispatcher in src/cli/ reads
 * the command table and imports a command's module only when that command runs, so `kassa --help` and
 * `kassa <command> --help` load no server, database driver or configuration.
 */
void runCli(process.argv.slice(2));
