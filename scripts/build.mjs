// `npm run build`: the production build. tsc compiles src/ into dist/src/ (tsconfig.build.json), then the files
// the code reads at run time next to its own file are copied alongside, keeping the repository's layout:
//   src/db/migrations/*.sql  → dist/src/db/migrations/   (migrate.ts reads ./migrations/)
//   public/                  → dist/public/              (static assets, the SDK: ../../public/ from src/http/)
// and the typed client the demo shop imports (`@kassa/node`, packages/node) is compiled into
// dist/node_modules/@kassa/node/: Node resolves a bare import from the nearest node_modules/ up the tree, so the
// compiled shop finds the compiled client there before the workspace link in the repository's node_modules/
// (whose entry point is TypeScript, which production does not run).
// `--out-dir DIR` builds somewhere else (the production-start test builds into a scratch folder).
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
const outDir = path.resolve(root, values['out-dir']);

rmSync(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
function compile(project, to) {
  const compiled = spawnSync(process.execPath, [tsc, '-p', project, '--outDir', to], {
    cwd: root,
    stdio: 'inherit',
  });
  if (compiled.status !== 0) process.exit(compiled.status ?? 1);
}
compile('tsconfig.build.json', outDir);

const clientDir = path.join(outDir, 'node_modules', '@kassa', 'node');
compile('packages/node/tsconfig.build.json', path.join(clientDir, 'src'));
const clientManifest = JSON.parse(readFileSync(path.join(root, 'packages/node/package.json'), 'utf8'));
writeFileSync(
  path.join(clientDir, 'package.json'),
  `${JSON.stringify(
    {
      name: clientManifest.name,
      version: clientManifest.version,
      private: true,
      type: 'module',
      license: clientManifest.license,
      exports: { '.': './src/index.js' },
      dependencies: clientManifest.dependencies,
    },
    null,
    2,
  )}\n`,
);

cpSync(path.join(root, 'src/db/migrations'), path.join(outDir, 'src/db/migrations'), { recursive: true });
cpSync(path.join(root, 'public'), path.join(outDir, 'public'), { recursive: true });
console.log(
  `built ${path.relative(root, outDir) || '.'}/src (start: node ${path.relative(root, outDir)}/src/cli.js serve)`,
);
