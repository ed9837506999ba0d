import { defineConfig } from 'vitest/config';

// Two projects: `api` (unit, e2e and conformance tests against a real PostgreSQL) and `browser`
// (Playwright driving Debian's Chromium against a gateway served on loopback).
export default defineConfig({
  test: {
    reporters: ['default', './test/fixtures/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'api',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**', 'node_modules/**'],
          globalSetup: ['./test/fixtures/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
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
    ],
  },
});
