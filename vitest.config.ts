import { defineConfig } from 'vitest/config';

// Integration and fault tests start real nats-servers; two cores, so keep the pool small.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/support/globalSetup.ts'],
  },
});
