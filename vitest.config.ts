import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'examples/test/**/*.test.ts',
      'examples/web/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
      'tools/docs/test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
