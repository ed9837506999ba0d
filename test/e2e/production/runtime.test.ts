import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);

/**
 * Kassa is built and tested on Node.js 24 LTS. The machine's own `node` may be older: the `node` devDependency
 * puts Node 24 into node_modules/.bin, which npm scripts (and npx) put first on PATH. These tests fail when
 * that chain breaks and the suite silently falls back to whatever Node is installed.
 */
describe('runtime', () => {
  it('runs the test workers on Node.js 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('gives npm scripts (npm start, npm test) Node.js 24 from a PATH without node_modules/.bin', async () => {
    // As in a fresh shell: only the machine's PATH (whatever Node it has), none of the entries npm test added.
    const PATH = (process.env.PATH ?? '')
      .split(':')
      .filter((entry) => !entry.includes('node_modules'))
      .join(':');
    const { stdout } = await run('npm', ['run', '--silent', 'node:version'], {
      cwd: REPO_ROOT,
      env: { ...process.env, PATH },
    });
    expect(stdout.trim()).toMatch(/^v24\./);
  });

  it('runs the TypeScript sources through tsx on Node.js 24 (what bin/kassa.js does in development)', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', 'console.log(process.versions.node)'],
      { cwd: REPO_ROOT },
    );
    expect(stdout.trim().split('.')[0]).toBe('24');
  });
});
