// Dev tool: per-thread CPU per request of one target, and (with PROF=1) a CPU profile of the
// measured window only, inclusive µs per request per function.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from './lib/load.mjs';
import { sessionTargets } from './lib/targets.mjs';
import { startServer, stopAll } from './lib/util.mjs';

const [id, seconds = '3', filter = ''] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'cpu-'));
const t = sessionTargets(dir).find((x) => x.id === id);
const prof = process.env.PROF === '1';
const server = await startServer(
  t.script,
  t.args,
  t.env,
  prof ? ['--cpu-prof', `--cpu-prof-dir=${dir}/prof`] : [],
);
const cred = await t.login(server.url, true);
const headers = cred ? { cookie: cred.cookie } : {};
await load({ url: server.url, path: t.path, headers, seconds: 1 });
const snap = () =>
  Object.fromEntries(
    readdirSync(`/proc/${server.pid}/task`).map((tid) => {
      const s = readFileSync(`/proc/${server.pid}/task/${tid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return [tid, [Number(f[11]), Number(f[12])]];
    }),
  );
const io = () => Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${server.pid}/io`, 'utf8'))[1]);
const a = snap();
const io0 = io();
const w0 = Number(process.hrtime.bigint() / 1000n);
const r = await load({ url: server.url, path: t.path, headers, seconds: Number(seconds) });
const w1 = Number(process.hrtime.bigint() / 1000n);
const b = snap();
const writesPerReq = (io() - io0) / r.requests;
let tu = 0,
  ts = 0,
  main = 0;
for (const k of Object.keys(b)) {
  const [u0, s0] = a[k] ?? [0, 0];
  const du = ((b[k][0] - u0) * 1e4) / r.requests,
    ds = ((b[k][1] - s0) * 1e4) / r.requests;
  tu += du;
  ts += ds;
  if (k === String(server.pid)) main = du + ds;
  else if (process.env.THREADS && du + ds > 0.2) console.log('  thread', k, (du + ds).toFixed(1));
}
console.log(
  `${id}: ${Math.round(r.rps)} req/s, CPU µs/req: total ${(tu + ts).toFixed(1)} (user ${tu.toFixed(1)}, sys ${ts.toFixed(1)}), main thread ${main.toFixed(1)}, write syscalls/req ${writesPerReq.toFixed(2)}`,
);
await server.stop();
await stopAll();
if (prof) {
  const pdir = `${dir}/prof`;
  const p = JSON.parse(readFileSync(join(pdir, readdirSync(pdir)[0]), 'utf8'));
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  let at = p.startTime;
  p.samples.forEach((nid, i) => {
    at += p.timeDeltas[i] ?? 0;
    if (at < w0 || at > w1) return;
    self.set(nid, (self.get(nid) ?? 0) + (p.timeDeltas[i] ?? 0));
  });
  const key = (n) =>
    `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${n.callFrame.lineNumber + 1}`;
  const incl = new Map(),
    selfK = new Map();
  for (const [nid, us] of self) {
    const k0 = key(nodes.get(nid));
    selfK.set(k0, (selfK.get(k0) ?? 0) + us);
    const seen = new Set();
    for (let up = nid; up !== undefined; up = parent.get(up)) {
      const k = key(nodes.get(up));
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + us);
    }
  }
  const R = r.requests;
  if (process.env.CALLERS) {
    const callers = new Map();
    for (const [nid, us] of self) {
      if (!key(nodes.get(nid)).startsWith(process.env.CALLERS)) continue;
      const chain = [];
      for (let up = parent.get(nid); up !== undefined && chain.length < 4; up = parent.get(up)) chain.push(key(nodes.get(up)));
      const k = chain.join(' < ');
      callers.set(k, (callers.get(k) ?? 0) + us);
    }
    for (const [k, us] of [...callers].sort((x, y) => y[1] - x[1]).slice(0, 8)) console.log('caller', (us / R).toFixed(2), k);
  }
  console.log('--- self µs/req');
  for (const [k, us] of [...selfK].sort((x, y) => y[1] - x[1]).slice(0, 25))
    console.log((us / R).toFixed(2).padStart(7), k);
  console.log('--- inclusive µs/req');
  for (const [k, us] of [...incl]
    .filter(([k]) => k.includes(filter))
    .sort((x, y) => y[1] - x[1])
    .slice(0, 70))
    console.log((us / R).toFixed(2).padStart(7), k);
}
