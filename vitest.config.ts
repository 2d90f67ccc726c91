import { defineConfig } from 'vitest/config';

// Inside the repository `prosa` (machines/, projections/, sagas/, templates/ import it) resolves to
// the TypeScript sources through the `prosa-source` export condition; users get dist/.
const conditions = ['prosa-source', 'module', 'node', 'development|production'];

// Integration and fault tests start real nats-servers; two cores, so keep the pool small.
export default defineConfig({
  ssr: { resolve: { conditions } },
  test: {
    include: ['test/**/*.test.ts', 'templates/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['test/support/globalSetup.ts'],
  },
});
