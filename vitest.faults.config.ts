import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The fault suite alone (`npx vitest run -c vitest.faults.config.ts`, after `npm run build`:
 * its nodes are the built CLI): PostgreSQL and Redis broken through a TCP proxy under load,
 * disk faults, start-up faults, SIGTERM. `npm test` runs these files too (they are under test/).
 */
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/faults/**/*.test.ts'] },
});
