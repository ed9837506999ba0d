import { defineConfig } from 'vitest/config';

/**
 * Three test projects (and `screenshots`, which `npm run screenshots` runs). `fast` and `slow` are the API tests (unit, e2e, conformance, contract) against a real
 * PostgreSQL; `npm test` runs both, `npm run test:fast` only the first for daily work. `slow` holds what takes
 * minutes or whole processes: fault injection (crashes, restarts, outages), the benchmark runner's own tests
 * and the schema fuzzer. `browser` is Playwright driving Debian's Chromium against a gateway on loopback.
 */
const SLOW_TESTS = ['test/faults/**/*.test.ts', 'test/bench/**/*.test.ts', 'test/contract/fuzz.test.ts'];

const API_TEST_OPTIONS = {
  globalSetup: ['./test/fixtures/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    reporters: ['default', './test/fixtures/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**', ...SLOW_TESTS, 'node_modules/**'],
          ...API_TEST_OPTIONS,
        },
      },
      {
        test: {
          name: 'slow',
          include: SLOW_TESTS,
          ...API_TEST_OPTIONS,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['./test/fixtures/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          // One file at a time: the browser files share one Chromium and one embedded server per run.
          fileParallelism: false,
        },
      },
      {
        // `npm run screenshots` only: PNGs of every shopper page into screenshots/ (not a test of anything).
        test: {
          name: 'screenshots',
          include: ['test/screenshots/**/*.run.ts'],
          globalSetup: ['./test/fixtures/global-setup.ts'],
          testTimeout: 1_800_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
    ],
  },
});
