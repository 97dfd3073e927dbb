import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The benchmark harness still runs end to end against the built dist/ (`npm test` builds first):
 * `bench/run.mjs --quick` completes, exits 0 (every load run had zero non-2xx, errors and
 * timeouts) and writes JSON, markdown and SVG with every row quick mode promises. Nothing here
 * is about speed: CI machines are shared and small.
 */

const root = resolve(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'tessera-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Row {
  id: string;
  [field: string]: unknown;
}
interface Results {
  quick: boolean;
  failures: string[];
  targets: Array<{ claim: string; goal: string; met: boolean | null }>;
  sections: Record<string, { rows: Row[] } | undefined>;
}

const EXPECTED_ROWS: Record<string, string[]> = {
  session: ['fastify-no-auth', 'tessera-session-sqlite', 'tessera-jwt-eddsa'],
  bandwidth: ['tessera-session-sqlite', 'tessera-jwt-eddsa'],
  revocation: ['tessera-session-sqlite', 'tessera-jwt-eddsa'],
  jwtMicro: [
    ...['EdDSA', 'ES256', 'HS256'].flatMap((alg) =>
      ['fast-jwt', 'jose', 'tessera verifier, no cache', 'tessera verifier, cache hit'].map(
        (lib) => `${alg}/${lib}`,
      ),
    ),
    'ES256/jsonwebtoken',
    'HS256/jsonwebtoken',
  ],
  logins: ['argon2id-raw', 'tessera-login'],
  storm: ['idle', 'storm'],
  growth: ['sqlite-1000', 'sqlite-10000'],
};

/** The numeric field each section's rows must carry (revocation's may be null by design). */
const MEASURE: Record<string, string | undefined> = {
  session: 'rps',
  bandwidth: 'cookieBytes',
  jwtMicro: 'opsPerSecond',
  logins: 'perSecond',
  storm: 'p99',
  growth: 'p99',
};

describe('npm run bench -- --quick', () => {
  it('completes and writes every expected row', { timeout: 90_000 }, async () => {
    const run = await promisify(execFile)(process.execPath, ['bench/run.mjs', '--quick', '--out', out], {
      cwd: root,
      timeout: 85_000,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`bench/run.mjs --quick failed: ${error.message}\n${error.stderr ?? ''}`);
    });
    expect(run.stdout).toContain('written');

    const date = new Date().toISOString().slice(0, 10);
    const candidates = [date, new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)];
    const base = candidates.map((d) => join(out, `${d}-quick`)).find((b) => existsSync(`${b}.json`));
    expect(base, 'results JSON written').toBeDefined();
    const results = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Results;
    expect(results.quick).toBe(true);
    expect(results.failures).toEqual([]);

    for (const [section, ids] of Object.entries(EXPECTED_ROWS)) {
      const rows = results.sections[section]?.rows ?? [];
      expect(rows.map((r) => r.id).sort(), section).toEqual([...ids].sort());
      const field = MEASURE[section];
      for (const row of rows) {
        if (field === undefined) continue;
        const value = row[field];
        expect(Number.isFinite(value) && (value as number) > 0, `${section} ${row.id}`).toBe(true);
      }
    }
    expect(results.targets.length).toBeGreaterThan(0);
    expect(readFileSync(`${base}.md`, 'utf8')).toContain('| tessera session, SQLite |');
    expect(readFileSync(`${base}.svg`, 'utf8')).toMatch(
      /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/,
    );
  });
});
