import { defineConfig } from 'vitest/config';

// Browser benchmarks: run on demand, print figures, assert nothing about time.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
