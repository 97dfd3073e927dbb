// `npm run bench:profile -- <target-id> [seconds]`: runs one GET /auth/session target from the
// bench (e.g. tessera-session-sqlite, tessera-jwt-eddsa) under `node --cpu-prof`, loads it like
// the throughput runs do (autocannon -c 50), stops it cleanly so the profile is written, and
// prints where the server's CPU went: top functions by self time, by inclusive time among
// Tessera's own functions, and self time grouped by package. The .cpuprofile is kept in
// bench/results/profiles/ for Chrome DevTools or speedscope.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { load, loadMany } from './lib/load.mjs';
import { deleteRedisKeys, dropSchemas } from './lib/services.mjs';
import { PASSWORD, serviceEnv, sessionTargets } from './lib/targets.mjs';
import { canPin, startServer } from './lib/util.mjs';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);
if (canPin && process.env.TESSERA_BENCH_PINNED !== '1') {
  const child = spawnSync('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, TESSERA_BENCH_PINNED: '1' },
  });
  process.exit(child.status ?? 1);
}

const [id = 'tessera-session-sqlite', secondsArg = '10'] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'tessera-profile-'));
// `login`: POST /auth/login on session mode/SQLite, 8 clients each logging in as its own user.
const LOGIN_CLIENTS = 8;
const loginTarget = {
  id,
  name: 'POST /auth/login, session mode, SQLite',
  script: 'bench/servers/tessera.mjs',
  args: [],
  env: { TESSERA_DATABASE_URL: `sqlite://${join(dir, 'login.db')}` },
  async login(url) {
    for (let i = 0; i < LOGIN_CLIENTS; i++) {
      await fetch(`${url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `login-${i}@example.com`, password: PASSWORD }),
      });
    }
  },
};
const target = id === 'login' ? loginTarget : sessionTargets(dir).find((t) => t.id === id);
if (!target) {
  const ids = sessionTargets(dir).map((t) => t.id);
  console.error(`unknown target ${id}; one of: login, ${ids.join(', ')}`);
  process.exit(2);
}
/** One run of load: GET the target's path, or (id `login`) the login clients. */
const run = (url, headers, seconds) =>
  id === 'login'
    ? loadMany(
        Array.from({ length: LOGIN_CLIENTS }, (_, i) => ({
          url,
          path: '/auth/login',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: `login-${i}@example.com`, password: PASSWORD }),
          connections: 1,
          seconds,
        })),
      )
    : load({ url, path: target.path, headers, seconds });
const profileDir = join(dir, 'prof');
// PostgreSQL and Redis targets get their schema or key prefix, as in the throughput runs.
const env = { ...target.env, ...(await serviceEnv(target)) };
const server = await startServer(target.script, target.args, env, [
  '--cpu-prof',
  `--cpu-prof-dir=${profileDir}`,
]);
const credentials = await target.login(server.url, true);
const headers = credentials ? { cookie: credentials.cookie } : {};
await run(server.url, headers, 1);
// The profile's timestamps and process.hrtime share the monotonic clock: only samples taken
// during the measured run count, not start-up, module loading or the warm-up.
const windowStart = Number(process.hrtime.bigint() / 1000n);
const result = await run(server.url, headers, Number(secondsArg));
const windowEnd = Number(process.hrtime.bigint() / 1000n);
await server.stop();
await dropSchemas();
await deleteRedisKeys();
const [file] = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no .cpuprofile written (did the server exit cleanly?)');
const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8'));

// Self time per node from the samples; inclusive time per function (each function counted
// once per stack, so recursion does not double-count).
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
const selfUs = new Map();
let at = profile.startTime;
let inWindow = 0;
profile.samples.forEach((nodeId, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (at < windowStart || at > windowEnd) return;
  inWindow++;
  selfUs.set(nodeId, (selfUs.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
if (inWindow === 0) throw new Error('no profile sample falls inside the measured run (clock mismatch?)');
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const keyOf = (n) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url
    ? `${url.replace(`file://${root}/`, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}`
    : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};
const packageOf = (n) => {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node core';
  const inModules = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (inModules) return inModules[1];
  if (url.includes('/dist/')) return `tessera ${url.replace(/^.*\/dist\//, '').split('/')[0]}`;
  return url.replace(`file://${root}/`, '');
};
const self = new Map();
const byPackage = new Map();
const inclusive = new Map();
for (const [nodeId, us] of selfUs) {
  const node = nodes.get(nodeId);
  self.set(keyOf(node), (self.get(keyOf(node)) ?? 0) + us);
  byPackage.set(packageOf(node), (byPackage.get(packageOf(node)) ?? 0) + us);
  const seen = new Set();
  for (let up = nodeId; up !== undefined; up = parent.get(up)) {
    const key = keyOf(nodes.get(up));
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}
const top = (map, n, filter = () => true) =>
  [...map]
    .filter(([key]) => filter(key))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => `| ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)}% | \`${key}\` |`);
const header = '| ms | share | function |\n| --- | --- | --- |';
const report = [
  `# CPU profile: ${target.name} (${id})`,
  '',
  `${Math.round(result.rps)} req/s over ${secondsArg} s (${id === 'login' ? `${LOGIN_CLIENTS} login clients` : 'autocannon -c 50'}), ${result.non2xx} non-2xx; ${(total / 1e6).toFixed(1)} s of samples taken during the run. Native functions without a file (\`writev\`: socket writes) are mostly system calls.`,
  '',
  '## Self time by package',
  '',
  '| ms | share | package |\n| --- | --- | --- |',
  ...top(byPackage, 20),
  '',
  '## Top functions by self time',
  '',
  header,
  ...top(self, 30),
  '',
  "## Tessera's own functions by inclusive time",
  '',
  header,
  ...top(inclusive, 25, (key) => /\sdist\//.test(key)),
  '',
].join('\n');
const outDir = join(root, 'bench/results/profiles');
mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().slice(0, 10);
copyFileSync(join(profileDir, file), join(outDir, `${stamp}-${id}.cpuprofile`));
writeFileSync(join(outDir, `${stamp}-${id}.md`), `${report}\n`);
spawnSync(join(root, 'node_modules/.bin/biome'), ['format', '--write', join(outDir, `${stamp}-${id}.md`)], {
  stdio: 'ignore',
});
rmSync(dir, { recursive: true, force: true });
console.log(report);
console.log(`written ${relative(root, join(outDir, `${stamp}-${id}.md`))} and .cpuprofile`);
