// Loader hooks for the CLI tests: every module the process loads is appended to the file named by
// KASSA_TEST_MODULE_LOG, so a test can check what `kassa … --help` loads (module-log.mjs registers them).
import { appendFileSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  appendFileSync(process.env.KASSA_TEST_MODULE_LOG, `${url}\n`);
  return nextLoad(url, context);
}
