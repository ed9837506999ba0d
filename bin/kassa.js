#!/usr/bin/env node
// The `kassa` command. Which code it runs:
// - in production (KASSA_ENV=production, or NODE_ENV=production without KASSA_ENV): the compiled JavaScript
//   in dist/ (`npm run build`), never the TypeScript sources;
// - otherwise the TypeScript sources through tsx's loader when tsx is installed (development: no build step
//   between `npm install` and `npm start`, and never a stale dist/);
// - otherwise (an install without dev dependencies) the compiled JavaScript in dist/.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/src/cli.js', import.meta.url);
const environment = process.env.KASSA_ENV || (process.env.NODE_ENV === 'production' ? 'production' : '');

async function loadTsx() {
  try {
    return await import('tsx/esm/api');
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

const tsx = environment === 'production' ? undefined : await loadTsx();
if (tsx) {
  tsx.register();
  await import('../src/cli.ts');
} else if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  console.error(
    environment === 'production'
      ? 'kassa: production runs the compiled code in dist/, which is missing: run `npm run build` first.'
      : 'kassa: neither tsx (a development dependency) nor the compiled code in dist/ is installed: run ' +
          '`npm install` to run from the sources, or `npm run build` to compile them.',
  );
  process.exit(1);
}
