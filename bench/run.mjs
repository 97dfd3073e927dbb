// `npm run bench`: Tessera against baselines and peers on one machine, every figure a ratio to
// something measured in the same run. Servers run pinned to core 0 (taskset), this process (the
// load generator: autocannon) re-executes itself pinned to core 1. Rounds are interleaved
// (A B C A B C) and medians reported, because absolute numbers on a shared 2-core machine drift.
//
//   npm run bench                     the whole suite (≤ 10 minutes), results in bench/results/<date>.*
//   npm run bench -- --quick          1 round, 1 s runs, 3 targets and small versions of the rest (< 1 min)
//   node bench/run.mjs --only session --targets tessera-session-sqlite,fastify-no-auth
//
// Options: --rounds N, --seconds S (throughput runs), --latency-seconds S, --out DIR,
// --growth N (sessions in the large table), --only SECTIONS, --targets IDS.
// Sections: session (incl. bandwidth and revocation), micro, logins (incl. storm), growth, code.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { insertSessions } from './lib/growth.mjs';
import { failureOf, load, loadMany } from './lib/load.mjs';
import { markdown, svgChart } from './lib/report.mjs';
import {
  EMAIL,
  PASSWORD,
  QUICK_TARGETS,
  revocationDelay,
  sessionTargets,
  tesseraLogin,
} from './lib/targets.mjs';
import { canPin, cpuSecondsOf, median, round, runPinnedJson, startServer, stopAll } from './lib/util.mjs';

const root = resolve(import.meta.dirname, '..');
process.chdir(root);

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'latency-seconds': { type: 'string' },
    out: { type: 'string' },
    growth: { type: 'string' },
    only: { type: 'string' },
    targets: { type: 'string' },
  },
});

// Re-exec pinned to core 1 so the load generator never shares a core with the server.
if (canPin && process.env.TESSERA_BENCH_PINNED !== '1') {
  const child = spawnSync('taskset', ['-c', '1', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, TESSERA_BENCH_PINNED: '1' },
  });
  process.exit(child.status ?? 1);
}

const quick = argv.quick;
function wholeSeconds(value) {
  return Math.max(1, Math.round(Number(value)));
}
const config = {
  rounds: Number(argv.rounds ?? (quick ? 1 : 3)),
  // autocannon ends runs on whole seconds: a 0.5 s run lasts 1 s and miscounts its rate.
  throughputSeconds: wholeSeconds(argv.seconds ?? (quick ? 1 : 3)),
  latencySeconds: wholeSeconds(argv['latency-seconds'] ?? (quick ? 1 : 2)),
  warmupSeconds: quick ? 0 : 1,
  microSeconds: quick ? 0.1 : 0.5,
  loginSeconds: quick ? 1 : 3,
  loginConcurrency: 8,
  growthSmall: 1_000,
  growthLarge: Number(argv.growth ?? (quick ? 10_000 : 1_000_000)),
  growthSample: quick ? 1_000 : 100_000,
  revocationWaitMs: quick ? 1_000 : 3_000,
};
const sections = new Set((argv.only ?? 'session,micro,logins,growth,code').split(','));
const targetFilter = argv.targets?.split(',') ?? (quick ? QUICK_TARGETS : undefined);

const started = performance.now();
const date = new Date().toISOString().slice(0, 10);
const outDir = resolve(argv.out ?? 'bench/results');
const baseName = quick ? `${date}-quick` : date;
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
const failures = [];
const log = (...line) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s]`, ...line);

function redisAnswers() {
  return new Promise((resolvePing) => {
    const socket = connect(6379, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolvePing(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolvePing(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolvePing(false);
    });
  });
}

/** One measured run; a run with any non-2xx, error or timeout is recorded as a failure. */
async function measured(what, options) {
  const run = Array.isArray(options) ? await loadMany(options) : await load(options);
  const failure = failureOf(run);
  if (failure) failures.push(`${what}: ${failure}`);
  return { ...run, failure };
}

const summary = (runs) => ({
  rps: median(runs.map((r) => r.rps)),
  p50: round(median(runs.map((r) => r.p50))),
  p99: round(median(runs.map((r) => r.p99))),
});

// ---------------------------------------------------------------------------------------------
// 1 and 3. GET /auth/session: throughput, latency at half of it, credential bytes.
async function sessionSection(othersReady) {
  let targets = sessionTargets(dir);
  if (targetFilter) targets = targets.filter((t) => targetFilter.includes(t.id));
  const redis = targets.some((t) => t.needsRedis) && (await redisAnswers());
  // Started side by side (their start-up, not their load, overlaps); kept in target order.
  const booted = await Promise.all(
    targets.map(async (target) => {
      if (target.needsRedis && !redis)
        return { ...target, failure: 'Redis at 127.0.0.1:6379 does not answer' };
      let server;
      try {
        server = await startServer(target.script, target.args, target.env);
        const credentials = await target.login(server.url, true);
        return { ...target, server, credentials, first: credentials, runs: [] };
      } catch (error) {
        await server?.stop();
        return { ...target, failure: `could not start or log in: ${error.message}` };
      }
    }),
  );
  const live = booted.filter((t) => !t.failure);
  const skipped = booted.filter((t) => t.failure);
  for (const t of skipped) failures.push(`${t.id}: ${t.failure}`);
  // The later sections' servers start alongside; none may still be starting while we measure.
  await othersReady;
  log(`session: ${live.length} servers up`);
  const headersOf = (t) => (t.credentials ? { cookie: t.credentials.cookie } : {});
  if (config.warmupSeconds > 0) {
    for (const t of live)
      await load({ url: t.server.url, path: t.path, headers: headersOf(t), seconds: config.warmupSeconds });
  }
  for (let r = 0; r < config.rounds; r++) {
    for (const t of live) {
      // Fresh credentials each round (a jwt-mode access token lives 5 minutes).
      if (r > 0) t.credentials = (await t.login(t.server.url, false)) ?? t.credentials;
      const cpuBefore = cpuSecondsOf(t.server.pid);
      const throughput = await measured(`${t.id} throughput`, {
        url: t.server.url,
        path: t.path,
        headers: headersOf(t),
        seconds: config.throughputSeconds,
      });
      const cpuMicroseconds = ((cpuSecondsOf(t.server.pid) - cpuBefore) * 1e6) / throughput.requests;
      const rate = throughput.rps / 2;
      const latency = await measured(`${t.id} latency`, {
        url: t.server.url,
        path: t.path,
        headers: headersOf(t),
        seconds: config.latencySeconds,
        rate,
      });
      if (t.server.exited !== null)
        failures.push(`${t.id}: the server stopped (${t.server.exited}) during the run`);
      t.runs.push({
        rps: throughput.rps,
        cpuMicroseconds,
        loadgenCpu: throughput.loadgenCpu,
        rate,
        p50: latency.p50,
        p99: latency.p99,
        failure: throughput.failure ?? latency.failure,
      });
    }
    log(`session: round ${r + 1}/${config.rounds} done`);
  }
  // Revocation: how long a logged-out credential keeps working, per Tessera mode.
  const revocation = [];
  for (const t of live.filter((t) => t.login === tesseraLogin && !t.id.endsWith('-nocache'))) {
    try {
      revocation.push({
        id: t.id,
        name: t.name,
        ...(await revocationDelay(t.server.url, config.revocationWaitMs)),
      });
    } catch (error) {
      failures.push(`${t.id} revocation: ${error.message}`);
    }
  }
  for (const t of live) {
    const code = await t.server.stop();
    if (code !== 0 && code !== null) failures.push(`${t.id}: server exited with ${code}`);
  }

  const baseline = live.find((t) => t.baseline) ?? live[0];
  const rows = live.map((t) => {
    const perRound = (field) => median(t.runs.map((run, i) => run[field] / baseline.runs[i][field]));
    return {
      id: t.id,
      name: t.name,
      rps: round(median(t.runs.map((run) => run.rps)), 0),
      ratio: round(perRound('rps')),
      latencyRate: round(median(t.runs.map((run) => run.rate)), 0),
      p50: round(median(t.runs.map((run) => run.p50))),
      p99: round(median(t.runs.map((run) => run.p99))),
      p50Ratio: round(perRound('p50')),
      p99Ratio: round(perRound('p99')),
      loadgenCpu: round(median(t.runs.map((run) => run.loadgenCpu))),
      // Server CPU per request, and the baseline's divided by it: the throughput ratio the two
      // would have if each had core 0 to itself.
      cpuMicroseconds: round(median(t.runs.map((run) => run.cpuMicroseconds)), 1),
      cpuRatio: round(median(t.runs.map((run, i) => baseline.runs[i].cpuMicroseconds / run.cpuMicroseconds))),
      runs: t.runs.map((run) => ({
        cpuMicroseconds: round(run.cpuMicroseconds, 1),
        ...run,
        rps: round(run.rps, 0),
        rate: round(run.rate, 0),
        loadgenCpu: round(run.loadgenCpu),
      })),
      ...(t.runs.some((run) => run.failure) ? { failure: t.runs.find((run) => run.failure).failure } : {}),
    };
  });
  for (const t of skipped) rows.push({ id: t.id, name: t.name, failure: t.failure });

  const sessionBytes = live.find((t) => t.id.startsWith('tessera-session'))?.first.credentialCookieBytes;
  const bandwidth = live
    .filter((t) => t.first)
    .map((t) => ({
      id: t.id,
      name: t.name,
      cookieBytes: t.first.cookieBytes,
      credentialCookieBytes: t.first.credentialCookieBytes,
      cookieRatio: sessionBytes ? round(t.first.credentialCookieBytes / sessionBytes) : null,
      setCookieBytes: t.first.setCookieBytes,
      cookieNames: t.first.setCookies.map((line) => line.split('=')[0]),
    }));
  return [
    { baseline: baseline.id, rows },
    { baseline: 'tessera session mode', rows: bandwidth },
    { waitMs: config.revocationWaitMs, rows: revocation },
  ];
}

// ---------------------------------------------------------------------------------------------
// 2. JWT verification per library (a child process on core 0).
async function microSection() {
  const raw = await runPinnedJson('bench/lib/jwt-micro.mjs', [
    String(config.microSeconds),
    String(config.rounds),
  ]);
  const rows = [];
  for (const alg of [...new Set(raw.map((r) => r.alg))]) {
    const ofAlg = raw.filter((r) => r.alg === alg);
    const libraries = [...new Set(ofAlg.map((r) => r.library))];
    const ops = Object.fromEntries(
      libraries.map((lib) => [
        lib,
        median(ofAlg.filter((r) => r.library === lib).map((r) => r.opsPerSecond)),
      ]),
    );
    for (const library of libraries) {
      rows.push({
        id: `${alg}/${library}`,
        alg,
        library,
        opsPerSecond: round(ops[library], 0),
        microseconds: round(1e6 / ops[library], 2),
        ratio: round(ops[library] / ops.jose),
      });
    }
  }
  log('micro: done');
  return { baseline: 'jose', rows };
}

// ---------------------------------------------------------------------------------------------
// 4. Logins per second against the raw argon2id limit; p99 of authenticated requests during a storm.
/** The login server: session mode on SQLite, one account per login client. */
async function startLoginServer() {
  const server = await startServer('bench/servers/tessera.mjs', [], {
    TESSERA_DATABASE_URL: `sqlite://${join(dir, 'logins.db')}`,
  });
  const { cookie } = await tesseraLogin(server.url, true);
  // One user per concurrent client, each client one connection logging in again and again.
  const users = Array.from({ length: config.loginConcurrency }, (_, i) => `login-${i}@example.com`);
  for (const email of users) {
    const registered = await fetch(`${server.url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    if (registered.status !== 201) throw new Error(`register ${email}: ${registered.status}`);
  }
  const loginClients = (seconds) =>
    users.map((email) => ({
      url: server.url,
      path: '/auth/login',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
      connections: 1,
      seconds,
    }));
  return { server, cookie, loginClients };
}

async function loginSections(ready) {
  const { server, cookie, loginClients } = await ready;
  const get = { url: server.url, headers: { cookie } };
  if (config.warmupSeconds > 0) {
    await load({ ...get, seconds: config.warmupSeconds });
    await loadMany(loginClients(config.warmupSeconds));
  }
  const raw = [];
  const logins = [];
  const idle = [];
  const storm = [];
  for (let r = 0; r < config.rounds; r++) {
    const argon2 = await runPinnedJson('bench/lib/argon2-raw.mjs', [
      String(config.loginConcurrency),
      String(config.loginSeconds),
    ]);
    raw.push(argon2.opsPerSecond);
    logins.push((await measured('POST /auth/login', loginClients(config.loginSeconds))).rps);
    const max = await measured('storm: GET /auth/session throughput', {
      ...get,
      seconds: config.throughputSeconds,
    });
    const rate = max.rps / 2;
    idle.push({
      ...(await measured('storm: idle GET', { ...get, rate, seconds: config.loginSeconds })),
      rate,
    });
    const [during, stormLogins] = await Promise.all([
      measured('storm: GET during logins', { ...get, rate, seconds: config.loginSeconds }),
      measured('storm: logins', loginClients(config.loginSeconds)),
    ]);
    storm.push({ ...during, rate, logins: stormLogins.rps });
  }
  const code = await server.stop();
  if (code !== 0 && code !== null) failures.push(`logins server exited with ${code}`);
  const rawPerSecond = median(raw);
  const loginsPerSecond = median(logins);
  const idleSummary = summary(idle);
  const stormSummary = summary(storm);
  log('logins and storm: done');
  return [
    {
      concurrency: config.loginConcurrency,
      rows: [
        {
          id: 'argon2id-raw',
          name: 'argon2id verifications, direct',
          perSecond: round(rawPerSecond, 1),
          ratio: 1,
        },
        {
          id: 'tessera-login',
          name: 'POST /auth/login, session mode, SQLite',
          perSecond: round(loginsPerSecond, 1),
          ratio: round(loginsPerSecond / rawPerSecond),
        },
      ],
    },
    {
      concurrency: config.loginConcurrency,
      rate: round(median(idle.map((r) => r.rate)), 0),
      rows: [
        { id: 'idle', name: 'no logins', p50: idleSummary.p50, p99: idleSummary.p99, p99Ratio: 1 },
        {
          id: 'storm',
          name: `${config.loginConcurrency} clients logging in`,
          p50: stormSummary.p50,
          p99: stormSummary.p99,
          p99Ratio: round(median(storm.map((s, i) => s.p99 / idle[i].p99))),
          loginsPerSecond: round(median(storm.map((s) => s.logins)), 1),
        },
      ],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// 5. Session validation with a small and a large sessions table (SQLite).
async function startGrowthServers() {
  const sizes = [config.growthSmall, config.growthLarge];
  return Promise.all(
    sizes.map(async (size) => {
      const file = join(dir, `growth-${size}.db`);
      const server = await startServer('bench/servers/tessera.mjs', [], {
        TESSERA_DATABASE_URL: `sqlite://${file}`,
      });
      const registered = await fetch(`${server.url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
      });
      if (registered.status !== 201) throw new Error(`growth register: ${registered.status}`);
      const { user } = await registered.json();
      return { size, file, server, userId: user.id, runs: [] };
    }),
  );
}

async function growthSection(ready) {
  const servers = await ready;
  for (const s of servers) {
    const insertStart = performance.now();
    const tokens = insertSessions(s.file, s.userId, s.size, Math.min(s.size, config.growthSample));
    s.insertSeconds = round((performance.now() - insertStart) / 1000, 1);
    s.cookies = tokens.map((token) => `__Host-tessera_session=${token}`);
    log(`growth: ${s.size.toLocaleString('en-US')} sessions inserted in ${s.insertSeconds} s`);
  }
  if (config.warmupSeconds > 0) {
    for (const s of servers)
      await load({ url: s.server.url, cookies: s.cookies, seconds: config.warmupSeconds });
  }
  for (let r = 0; r < config.rounds; r++) {
    const throughputs = [];
    const cpu = [];
    for (const s of servers) {
      const cpuBefore = cpuSecondsOf(s.server.pid);
      const run = await measured(`growth ${s.size} throughput`, {
        url: s.server.url,
        cookies: s.cookies,
        seconds: config.throughputSeconds,
      });
      throughputs.push(run.rps);
      cpu.push(((cpuSecondsOf(s.server.pid) - cpuBefore) * 1e6) / run.requests);
    }
    // The same fixed rate for both tables: half the small table's throughput.
    const rate = throughputs[0] / 2;
    servers.forEach((s, i) => {
      s.runs[r] = { rps: throughputs[i], cpuMicroseconds: cpu[i], rate };
    });
    for (const s of servers) {
      const run = await measured(`growth ${s.size} latency`, {
        url: s.server.url,
        cookies: s.cookies,
        seconds: config.latencySeconds,
        rate,
      });
      Object.assign(s.runs[r], { p50: run.p50, p99: run.p99 });
    }
  }
  for (const s of servers) {
    const code = await s.server.stop();
    if (code !== 0 && code !== null) failures.push(`growth ${s.size} server exited with ${code}`);
  }
  log('growth: done');
  const [small] = servers;
  return {
    sampleSize: config.growthSample,
    rows: servers.map((s) => ({
      id: `sqlite-${s.size}`,
      sessions: s.size,
      insertSeconds: s.insertSeconds,
      ...summary(s.runs),
      rps: round(median(s.runs.map((run) => run.rps)), 0),
      cpuMicroseconds: round(median(s.runs.map((run) => run.cpuMicroseconds)), 1),
      cpuRatio: round(median(s.runs.map((run, i) => run.cpuMicroseconds / small.runs[i].cpuMicroseconds))),
      p50Ratio: round(median(s.runs.map((run, i) => run.p50 / small.runs[i].p50))),
      p99Ratio: round(median(s.runs.map((run, i) => run.p99 / small.runs[i].p99))),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Code that each mode adds, in lines (neither blank nor only a comment): the maintainability
// side of the sessions-vs-JWT debate, measured on this checkout.
function codeSection() {
  const groups = {
    'session mode (sessions, opaque tokens)': ['src/core/sessions.ts', 'src/core/tokens.ts'],
    'jwt mode (JOSE, keys, keyring, refresh families)': [
      ...readdirSync('src/core/jwt').map((f) => `src/core/jwt/${f}`),
      'src/core/keyring.ts',
      'src/core/token-logins.ts',
    ],
    'hybrid mode on top of jwt (revocation state, bus)': [
      'src/core/revocations.ts',
      'src/store/bus.ts',
      'src/store/memory/in-process-bus.ts',
    ],
  };
  const linesOf = (file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.trim() && !/^\s*(\/\/|\/?\*)/.test(line)).length;
  return {
    rows: Object.entries(groups).map(([name, files]) => {
      const present = files.filter((f) => f.endsWith('.ts') && existsSync(f));
      return {
        id: name.split(' ')[0],
        name,
        files: present.length,
        lines: present.reduce((n, f) => n + linesOf(f), 0),
      };
    }),
  };
}

// ---------------------------------------------------------------------------------------------
/**
 * The targets. Each throughput target is read twice: by req/s, and by server CPU per
 * request (the reading that holds when other work on a shared machine steals time).
 */
function evaluateTargets(s) {
  const row = (section, id) => s[section]?.rows.find((r) => r.id === id);
  const rps = (id) => row('session', id)?.rps;
  const cpu = (id) => row('session', id)?.cpuMicroseconds;
  const targets = [];
  const add = (claim, value, goal, met) =>
    targets.push({
      claim,
      measured: Number.isFinite(value) ? round(value) : null,
      goal,
      met: Number.isFinite(value) ? met(value) : null,
    });
  const atLeast = (min) => (v) => v >= min;
  const atMost = (max) => (v) => v <= max;
  const vsBaseline = [
    ['session on memory', 'tessera-session-memory'],
    ['session on SQLite', 'tessera-session-sqlite'],
    ...['EdDSA', 'ES256', 'RS256', 'HS256'].map((alg) => [
      `jwt ${alg} with cache`,
      `tessera-jwt-${alg.toLowerCase()}`,
    ]),
  ];
  for (const [what, id] of vsBaseline) {
    add(`${what} vs fastify-no-auth, req/s`, row('session', id)?.ratio, '>= 0.85', atLeast(0.85));
    add(
      `${what} vs fastify-no-auth, CPU per request`,
      row('session', id)?.cpuRatio,
      '>= 0.85',
      atLeast(0.85),
    );
  }
  const vsPeer = [
    [
      'session on SQLite vs better-auth getSession (SQLite, no cookie cache)',
      'tessera-session-sqlite',
      'better-auth',
      10,
    ],
    [
      'jwt EdDSA vs better-auth getSession (cookie cache on)',
      'tessera-jwt-eddsa',
      'better-auth-cookie-cache',
      10,
    ],
    [
      'session on SQLite vs express-session + connect-redis',
      'tessera-session-sqlite',
      'express-session-redis',
      1.5,
    ],
  ];
  for (const [what, ours, theirs, times] of vsPeer) {
    add(`${what}, req/s`, rps(ours) / rps(theirs), `>= ${times}x`, atLeast(times));
    add(`${what}, CPU per request`, cpu(theirs) / cpu(ours), `>= ${times}x`, atLeast(times));
  }
  add('logins/s vs raw argon2id', row('logins', 'tessera-login')?.ratio, '>= 0.9', atLeast(0.9));
  add('p99 during a login storm vs idle p99', row('storm', 'storm')?.p99Ratio, '<= 3x', atMost(3));
  const large = s.growth?.rows[1];
  const many = large ? large.sessions.toLocaleString('en-US') : 'many';
  add(`p99 with ${many} sessions vs 1,000`, large?.p99Ratio, '<= 1.5x', atMost(1.5));
  add(`p50 with ${many} sessions vs 1,000`, large?.p50Ratio, '<= 1.5x', atMost(1.5));
  add(`CPU per request with ${many} sessions vs 1,000`, large?.cpuRatio, '<= 1.5x', atMost(1.5));
  return targets;
}

const results = {
  date,
  quick,
  node: process.version,
  cpus: cpus().length,
  pinned: canPin,
  rounds: config.rounds,
  seconds: { throughput: config.throughputSeconds, latency: config.latencySeconds },
  config,
  sections: {},
  targets: [],
  failures,
};
process.once('SIGINT', () => {
  stopAll().finally(() => process.exit(130));
});
// Servers of the later sections start now, alongside the first ones (start-up is mostly waiting).
const settled = (promise) => {
  promise.catch(() => {});
  return promise;
};
const loginServer = sections.has('logins') ? settled(startLoginServer()) : undefined;
const growthServers = sections.has('growth') ? settled(startGrowthServers()) : undefined;
try {
  if (sections.has('session'))
    [results.sections.session, results.sections.bandwidth, results.sections.revocation] =
      await sessionSection(Promise.allSettled([loginServer, growthServers]));
  if (sections.has('micro')) results.sections.jwtMicro = await microSection();
  if (sections.has('logins'))
    [results.sections.logins, results.sections.storm] = await loginSections(loginServer);
  if (sections.has('growth')) results.sections.growth = await growthSection(growthServers);
  if (sections.has('code')) results.sections.code = codeSection();
} catch (error) {
  failures.push(`aborted: ${error.stack ?? error}`);
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
results.targets = evaluateTargets(results.sections);
results.durationSeconds = round((performance.now() - started) / 1000, 0);
mkdirSync(outDir, { recursive: true });
const file = (ext) => join(outDir, `${baseName}.${ext}`);
results.chartFile = `${baseName}.svg`;
writeFileSync(file('json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(file('md'), markdown(results));
// Results inside the repository are formatted the way `npm run lint` (biome) expects.
if (!relative(root, outDir).startsWith('..')) {
  spawnSync(join(root, 'node_modules/.bin/biome'), ['format', '--write', file('json'), file('md')], {
    stdio: 'ignore',
  });
}
if (results.sections.session) writeFileSync(file('svg'), svgChart(results));
console.log(markdown(results));
log(`written ${relative(root, file('json'))}, .md${results.sections.session ? ', .svg' : ''}`);
if (failures.length > 0) {
  console.error(`${failures.length} failure(s):\n${failures.join('\n')}`);
  process.exitCode = 1;
}
