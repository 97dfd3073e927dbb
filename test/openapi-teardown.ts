import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENAPI_MISMATCH_FILE_ENV } from './openapi-check.js';

/**
 * vitest globalSetup: one file per run where test/openapi-check.ts writes every answer that
 * did not match /openapi.json; the run fails at teardown if it is not empty, naming them.
 */
export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-openapi-'));
  const file = join(dir, 'mismatches.txt');
  process.env[OPENAPI_MISMATCH_FILE_ENV] = file;
  return () => {
    let found = '';
    try {
      found = readFileSync(file, 'utf8');
    } catch {}
    rmSync(dir, { recursive: true, force: true });
    if (found.trim() !== '') {
      // vitest reports an error thrown here but still exits 0: the exit code must say it too.
      process.exitCode = 1;
      throw new Error(
        `answers that do not match GET /openapi.json (fix the route's config.api or the answer):\n${found}`,
      );
    }
  };
}
