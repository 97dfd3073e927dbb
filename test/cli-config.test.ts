import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './cli-process.js';
import { tempDir } from './helpers.js';

/**
 * A bad configuration value stops a real process with one line naming the variable and exit
 * code 1, never a stack trace; test/unit/config-bad-values.test.ts gives every variable bad
 * values in process, these few prove the path through the CLI (serve and the other commands).
 */
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

const CASES: Array<{ args: string[]; variable: string; value: string }> = [
  { args: ['serve'], variable: 'TESSERA_TRUSTED_PROXIES', value: '10.0.0.1,not-an-ip' },
  { args: ['serve'], variable: 'TESSERA_ISSUER', value: 'localhost:3000' },
  { args: ['serve'], variable: 'TESSERA_ISSUER', value: 'ftp://auth.example.com' },
  { args: ['serve'], variable: 'TESSERA_DATABASE_URL', value: 'sqlite://' },
  { args: ['serve'], variable: 'TESSERA_HOST', value: 'http://0.0.0.0' },
  { args: ['serve'], variable: 'TESSERA_ACCESS_TOKEN_TTL', value: '2h' },
  { args: ['migrate'], variable: 'TESSERA_CORS_ORIGINS', value: '*' },
  { args: ['users', 'list'], variable: 'TESSERA_MODE', value: 'cookies' },
];

describe('a bad configuration value, in a real process', () => {
  it('stops serve, migrate and operator commands with one line naming it, exit 1', async () => {
    const results = await Promise.all(
      CASES.map(({ args, variable, value }) =>
        runCli(args, { [variable]: value, TESSERA_PORT: '0' }, '', tempDir()),
      ),
    );
    results.forEach((result, i) => {
      const { variable, value, args } = CASES[i] as (typeof CASES)[number];
      const what = `${args.join(' ')} with ${variable}=${value}`;
      expect(result.code, what).toBe(1);
      expect(result.stderr.trim().split('\n'), what).toEqual([
        expect.stringMatching(
          new RegExp(
            `^tessera: invalid configuration: ${variable} .*${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`,
          ),
        ),
      ]);
      expect(result.stdout, what).toBe('');
    });
  }, 60_000);
});
