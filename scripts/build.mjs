// `npm run build`: the production build. tsc compiles src/ into dist/src/ (tsconfig.build.json), then the files
// the code reads at run time next to its own file are copied alongside, keeping the repository's layout:
//   src/db/migrations/*.sql  → dist/src/db/migrations/   (migrate.ts reads ./migrations/)
//   public/                  → dist/public/              (static assets, the SDK: ../../public/ from src/http/)
// `--out-dir DIR` builds somewhere else (the production-start test builds into a scratch folder).
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
const outDir = path.resolve(root, values['out-dir']);

rmSync(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
  cwd: root,
  stdio: 'inherit',
});
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

cpSync(path.join(root, 'src/db/migrations'), path.join(outDir, 'src/db/migrations'), { recursive: true });
cpSync(path.join(root, 'public'), path.join(outDir, 'public'), { recursive: true });
console.log(
  `built ${path.relative(root, outDir) || '.'}/src (start: node ${path.relative(root, outDir)}/src/cli.js serve)`,
);
