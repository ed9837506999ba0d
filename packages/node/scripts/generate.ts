/**
 * `npm run client:generate`: writes src/openapi.ts from the gateway's /openapi.json.
 *
 * By default it reads the document of the gateway in this repository, started in-process on a throwaway
 * embedded PostgreSQL (the document is built from the routes, so it needs the app, and the app needs a
 * database); `--from <url>` reads a running gateway's document instead (e.g. `--from http://localhost:3000`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderTypes, TYPES_PATH } from './render-types.ts';

async function documentOfThisRepository(): Promise<unknown> {
  const { loadConfig } = await import('../../../src/config.ts');
  const { bootstrap } = await import('../../../src/bootstrap.ts');
  const { buildApp } = await import('../../../src/app.ts');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kassa-client-generate-'));
  try {
    const config = loadConfig({ KASSA_ENV: 'test', KASSA_DATA_DIR: dataDir, KASSA_LOG_LEVEL: 'warn' });
    const quiet = { info() {}, warn() {} };
    const { services, database } = await bootstrap(config, quiet);
    try {
      const app = await buildApp(services);
      const response = await app.inject({ url: '/openapi.json' });
      await app.close();
      return response.json();
    } finally {
      await database.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { from: { type: 'string' } } });
const document = values.from
  ? await (await fetch(new URL('/openapi.json', values.from))).json()
  : await documentOfThisRepository();
await writeFile(TYPES_PATH, await renderTypes(document));
console.log(`wrote ${path.relative(process.cwd(), TYPES_PATH)}`);
