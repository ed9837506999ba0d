import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * `npm run bench` keeps working: a short run of two scenarios on a fresh embedded PostgreSQL starts the real
 * gateway and the baseline, drives them (with the two floors, bench/floor-routes.ts, which write to the gateway's
 * tables and must keep working as they change), and prints the report with the targets. Only that it runs
 * and every request succeeded is checked here; how fast is for the benchmark itself to say (never a test).
 * `--only` writes nothing to bench/results/.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('npm run bench', () => {
  it('runs a short benchmark end to end and prints the report', { timeout: 180_000 }, async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/run.ts',
        '--quick',
        '--db',
        'embedded',
        '--only',
        'baseline_create_checkout,create_checkout,floor_create_checkout,floor_hosted_page',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: '', BENCH_DURATION_SECONDS: '1' },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 170_000,
      },
    );
    const row = (title: string) =>
      stdout
        .split('\n')
        .find((line) => line.startsWith(`| ${title} |`))
        ?.split('|')
        .map((cell) => cell.trim());
    // | Scenario | Loop | ops/s | p50 | p99 | max | errors | …
    for (const title of [
      'baseline: JWT verify + 2 inserts',
      'POST /v1/checkouts',
      'floor of POST /v1/checkouts: one statement',
      "floor of the hosted page: 1 statement + the page's bytes",
    ]) {
      const cells = row(title);
      expect(cells, `${title} in:\n${stdout}`).toBeDefined();
      expect(Number(cells![3]!.replaceAll(',', ''))).toBeGreaterThan(0);
      expect(cells![7]).toBe('0');
    }
    expect(stdout).toContain('| create-checkout ≥ 70 % of the baseline |');
    expect(stdout).toContain('--only: bench/results/ left as it was');
  });
});
