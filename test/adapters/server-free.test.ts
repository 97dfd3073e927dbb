import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * An app that only checks credentials must not load Tessera's server: `tessera/express`,
 * `tessera/hono`, `tessera/client`, `tessera/verify` and `tessera/fastify` are imported by package name from the built dist/ (as an
 * app would, `npm test` builds first) in a fresh node process, and every module it loads is
 * recorded twice over: each ESM resolution through a module.register() hook, and the CommonJS
 * module cache (fastify, fastify-plugin and bowser are CommonJS packages).
 */

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tessera-server-free-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  join(dir, 'hooks.mjs'),
  `import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(log, resolved.url + '\\n');
  return resolved;
}
`,
);
writeFileSync(
  join(dir, 'register.mjs'),
  `import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url), { data: { log: process.env.RESOLVED_LOG } });
`,
);

/** Every module file (ESM resolutions and the CommonJS cache) that importing `specifier` loads. */
async function modulesLoadedBy(specifier: string): Promise<string[]> {
  const log = join(dir, `${specifier.replaceAll('/', '_')}.log`);
  writeFileSync(log, '');
  const script = `
import { createRequire } from 'node:module';
await import(${JSON.stringify(specifier)});
console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const { stdout } = await run(
    process.execPath,
    ['--import', join(dir, 'register.mjs'), '--input-type=module', '-e', script],
    { cwd: process.cwd(), env: { ...process.env, RESOLVED_LOG: log } },
  );
  const commonJs = JSON.parse(stdout.trim().split('\n').at(-1) as string) as string[];
  const resolved = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return [...resolved, ...commonJs];
}

const SERVER_PACKAGES = /[/\\]node_modules[/\\](fastify|fastify-plugin|@fastify[/\\][^/\\]+|bowser)[/\\]/;
const serverModules = (loaded: string[]) => loaded.filter((file) => SERVER_PACKAGES.test(file));

describe('the app adapters and the browser SDK load no server code', () => {
  it('the detector sees fastify, fastify-plugin and bowser when the server itself is imported', async () => {
    const loaded = await modulesLoadedBy('tessera');
    const packages = new Set(serverModules(loaded).map((file) => SERVER_PACKAGES.exec(file)?.[1]));
    expect(packages).toContain('fastify');
    expect(packages).toContain('fastify-plugin');
    expect(packages).toContain('bowser');
  });

  // tessera/fastify runs inside the app's own fastify: it uses fastify's types, never loads it.
  for (const specifier of [
    'tessera/express',
    'tessera/hono',
    'tessera/client',
    'tessera/verify',
    'tessera/fastify',
  ]) {
    it(`${specifier} loads no fastify, fastify-plugin, @fastify/* or bowser module, nor src/http`, async () => {
      const loaded = await modulesLoadedBy(specifier);
      expect(
        loaded.some((file) =>
          file.includes(`/dist/${specifier === 'tessera/client' ? 'client' : 'adapters'}/`),
        ),
      ).toBe(true);
      expect(serverModules(loaded)).toEqual([]);
      expect(loaded.filter((file) => /[/\\]dist[/\\]http[/\\]/.test(file))).toEqual([]);
    });
  }
});
