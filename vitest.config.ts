import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // after the default summary, one line per reason tests were skipped (e.g. node-llama-cpp missing)
    reporters: ['default', './test/helpers/skip-summary.ts'],
  },
});
