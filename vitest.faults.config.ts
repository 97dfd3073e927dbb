import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The fault suite alone (`npx vitest run -c vitest.faults.config.ts`): PostgreSQL and Redis
 * broken through a TCP proxy under load, disk faults, start-up faults, SIGTERM. `npm test`
 * runs these files too (they are under test/). Needs `npm run build` first (nodes are the CLI).
 */
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: ['test/faults/**/*.test.ts'],
    },
  }),
);
