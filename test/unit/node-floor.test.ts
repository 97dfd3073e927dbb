import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// npm's own range semantics; present through the dev tooling (not a dependency of Tessera).
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
};

/**
 * package.json's `engines.node` is a promise to users: every package Tessera installs in
 * production must declare support for that floor too (cookie@2 declares Node >= 22, so package.json
 * pins @fastify/cookie 11.1.0 and light-my-request 6.6.0, the last to use cookie@1: same API, Node >= 18).
 */
interface Manifest {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** Where Node would find `name` from `fromDir`: the nearest node_modules up the tree. */
function packageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** Every package a production install brings, by its real directory. */
function productionPackages(root: string): Map<string, Manifest> {
  const seen = new Map<string, Manifest>();
  const visit = (dir: string, isRoot: boolean) => {
    const pkg = manifest(dir);
    if (!isRoot) {
      if (seen.has(dir)) return;
      seen.set(dir, pkg);
    }
    // Tessera's own peers are the server's drivers (optional for apps, installed by every server).
    const peers = isRoot ? pkg.peerDependencies : {};
    for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...peers })) {
      const found = packageDir(name, dir);
      if (found) visit(found, false);
    }
  };
  visit(root, true);
  return seen;
}

describe('the Node version floor', () => {
  it('is supported by every production dependency that declares engines.node', () => {
    const root = resolve('.');
    const floor = semver.minVersion(manifest(root).engines?.node as string)?.version as string;
    const packages = productionPackages(root);
    expect(packages.size).toBeGreaterThan(20);
    const refusing = [...packages.values()].flatMap((pkg) => {
      const range = pkg.engines?.node;
      return range && !semver.satisfies(floor, range) ? [`${pkg.name}@${pkg.version} (node ${range})`] : [];
    });
    expect(refusing, `Node ${floor} (package.json engines) is refused by`).toEqual([]);
  });
});
