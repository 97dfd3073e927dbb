import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

/** The compiled CLI (the `tessera` bin, dist/cli/bin.js, checks the server's drivers, then runs this); `npm test` builds it first. */
export const CLI = resolve('dist/cli/main.js');

/** The environment without any TESSERA_* variable of the developer's shell, plus `extra`. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
  // A small pool for every `tessera` process a test starts (see TEST_POOL_SIZE in helpers.ts).
  return { ...env, TESSERA_DATABASE_POOL_SIZE: '4', ...extra };
}

/** Runs a CLI command with `env`; stdin is written and closed. */
export async function runCli(args: string[], env: Record<string, string>, stdin = '', cwd?: string) {
  const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(env), cwd });
  child.stdin.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const [code] = await once(child, 'close');
  return { code: code as number, stdout, stderr };
}
