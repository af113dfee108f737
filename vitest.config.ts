import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{core,ops,checks,infra,migrations,bench,test}/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts', 'test/global-setup-pg15.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', ['json', { outputFile: '.pgsteward/test-results.json' }]],
  },
});
