import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli as runCliIn } from './cli-process.js';
import { PASSWORD, tempDir } from './helpers.js';

/** The CLI refuses to leave no unlocked admin, with one line (issue 14, item 7). */
const runCli = (args: string[], env: Record<string, string>, stdin = '') =>
  runCliIn(args, env, stdin, tempDir());

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
});

describe('tessera users: the last admin', () => {
  it('cannot lose the admin role or be locked while no other unlocked admin exists', async () => {
    const env = { TESSERA_DATABASE_URL: `sqlite://${join(tempDir(), 'admins.db')}` };
    // Commands other than serve and migrate never create a database.
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const create = (email: string) =>
      runCli(['users', 'create', '--email', email, '--role', 'admin'], env, `${PASSWORD}\n`);
    expect((await create('root@example.com')).code).toBe(0);

    for (const args of [
      ['users', 'roles', 'root@example.com', 'teller'],
      ['users', 'lock', 'root@example.com', '--reason', 'leaving'],
    ]) {
      const refused = await runCli(args, env);
      expect(refused.code, args.join(' ')).toBe(1);
      // One line says which database was opened; then one line says why nothing changed.
      expect(refused.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^tessera: database /),
        expect.stringMatching(/^tessera: .*would leave no unlocked account with the admin role/),
      ]);
    }
    expect((await runCli(['users', 'list'], env)).stdout).toMatch(
      /root@example.com\troles=\[admin\]\tcreated=\S+/,
    );

    // Another admin first, then the first can step down.
    expect((await create('deputy@example.com')).code).toBe(0);
    expect((await runCli(['users', 'roles', 'root@example.com', 'teller'], env)).code).toBe(0);
    expect((await runCli(['users', 'lock', 'deputy@example.com', '--reason', 'x'], env)).code).toBe(1);
  });
});
