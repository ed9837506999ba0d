/**
 * The README's configuration table is generated from the schema in src/config.ts (`npm run docs:config`):
 * this fails when they differ, and when a variable config.ts reads is missing from either.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvSchema, FILE_SECRETS } from '../../src/config.ts';
import { README_PATH, renderConfigTable, withConfigTable } from '../../scripts/config-table.ts';

describe('README configuration table', () => {
  it('is what `npm run docs:config` writes (run it after changing src/config.ts)', () => {
    const readme = readFileSync(README_PATH, 'utf8');
    expect(withConfigTable(readme)).toBe(readme);
  });

  it('has a row for every variable config.ts reads, including the _FILE forms of secrets', () => {
    const source = readFileSync(path.join(import.meta.dirname, '../../src/config.ts'), 'utf8');
    // Every `values.X` / `env.X` the loader reads must be in the schema, hence in the table.
    const read = new Set([...source.matchAll(/\bvalues\.([A-Z][A-Z0-9_]+)/g)].map((match) => match[1]!));
    const names = Object.keys(EnvSchema.shape);
    for (const variable of read) expect(names).toContain(variable);
    const table = renderConfigTable();
    for (const name of names) expect(table).toContain(`| \`${name}\``);
    for (const name of FILE_SECRETS) expect(table).toContain(`\`${name}_FILE\``);
    for (const name of [
      'KASSA_ACCESS_TOKEN_TTL_SECONDS',
      'KASSA_WEBHOOK_RETRY_SCHEDULE',
      'KASSA_WEBHOOK_LEASE_SECONDS',
      'KASSA_CALLBACK_CONNECT_TIMEOUT_MS',
      'KASSA_CALLBACK_RESPONSE_TIMEOUT_MS',
    ]) {
      expect(table).toContain(`| \`${name}\` |`);
    }
  });

  it('shows schema defaults as they are', () => {
    const table = renderConfigTable();
    expect(table).toContain('| `PORT` | `3000` | HTTP port |');
    expect(table).toMatch(/\| `KASSA_CALLBACK_CONNECT_TIMEOUT_MS` \| `7000` \|/);
  });
});
