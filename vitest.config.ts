import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Files run in parallel on separate processes; each test uses its own temp dir, port and store.
    pool: 'forks',
    // argon2id at m=19 MiB is ~20 ms per hash by design; flows that hash several times need room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Every JSON answer a startTessera server gives is checked against GET /openapi.json
    // (test/openapi-check.ts); the teardown fails the run on any mismatch it recorded.
    env: { OPENAPI_RESPONSE_CHECK: '1' },
    globalSetup: ['test/openapi-teardown.ts'],
  },
});
