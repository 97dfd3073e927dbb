// Small shared helpers for the bench: statistics, child processes pinned to a core, cookies.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

export const median = (xs) => {
  const sorted = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Nearest-rank percentile of an unsorted array of numbers (p in 0..100). */
export function percentile(xs, p) {
  if (xs.length === 0) return Number.NaN;
  const sorted = Float64Array.from(xs).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const round = (x, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Core pinning: servers on core 0, this process (the load generator) on core 1. Only when
 * taskset exists and there are at least two cores; otherwise everything runs unpinned and the
 * results say so.
 */
export const canPin =
  // Inside the re-executed, pinned process the affinity mask shows one core: trust the parent.
  process.env.TESSERA_BENCH_PINNED === '1' ||
  (process.platform === 'linux' &&
    cpus().length >= 2 &&
    spawnSync('taskset', ['-c', '0', 'true']).status === 0);

export const pinned = (core, command, args) =>
  canPin ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];

const handedOut = new Set();

/**
 * A port nothing listens on now, never the same twice in this process: the kernel may hand a
 * just-closed port to the next listen(0), and dozens of servers start side by side here.
 */
export async function freePort() {
  for (;;) {
    const server = createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    await new Promise((resolve) => server.close(resolve));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/**
 * Whether process `pid` itself holds the socket listening on `port` (Linux: /proc/net/tcp and
 * the process's descriptors). Elsewhere, or when /proc cannot tell, true. Between freePort and
 * the server's listen another process may take the port; its answers must not pass for ours.
 */
function listensOn(pid, port) {
  if (process.platform !== 'linux') return true;
  try {
    const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    const sockets = new Set(
      readFileSync('/proc/net/tcp', 'utf8')
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((f) => f[1]?.endsWith(hexPort) && f[3] === '0A')
        .map((f) => `socket:[${f[9]}]`),
    );
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return sockets.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
  } catch {
    return true;
  }
}

const running = new Set();
/** Servers spawned and not yet listening (stopAll must not leave them behind either). */
const starting = new Set();

/** Stops every server still running or starting (after a failure, or on Ctrl-C). */
export async function stopAll() {
  for (const child of starting) child.kill('SIGKILL');
  await Promise.all([...running].map((server) => server.stop()));
}

/**
 * Starts a server script, pinned to core 0 once it listens. Its stdout (the request log) goes to a
 * file, as in production (not /dev/null, whose writes cost nearly nothing, nor a pipe this process
 * would have to drain), deleted when the server stops; readiness is polled. stop() sends SIGTERM and resolves with
 * the exit code (a bench server exits non-zero when it measured nothing it was meant to).
 */
export async function startServer(
  script,
  args,
  env,
  nodeOptions = [],
  { cores = '0', pinAtSpawn = false } = {},
) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(script, args, env, nodeOptions, cores, pinAtSpawn);
    } catch (error) {
      // Another process took the port first: try another one.
      if (!error.portTaken || attempt === 3) throw error;
    }
  }
}

async function startServerOnce(script, args, env, nodeOptions, cores, pinAtSpawn) {
  const port = await freePort();
  // Start-up (module loading, key generation) may use both cores, so that many servers start
  // side by side quickly; once listening, every thread of the server is moved to core 0.
  // `pinAtSpawn`: on `cores` from the first instruction instead. node then sizes V8's helper
  // threads for one core, which steadies a lone server (jwt mode: 36-41 µs per request over 13
  // starts, against 42-69 µs when moved after listening, where garbage collection cost 3 or
  // 28 µs per request depending on the start), so bench/socket-steps.mjs (one server at a time)
  // uses it. Not the default: in the full run, with every section's servers on core 0 from
  // their start, every server measured 20-50 % dearer, baselines included (fastify 31-33 µs
  // against 24-27), in two runs.
  const [command, argv] = pinned(pinAtSpawn ? cores : '0,1', process.execPath, [
    ...nodeOptions,
    script,
    ...args,
  ]);
  const logDir = mkdtempSync(join(tmpdir(), 'tessera-bench-log-'));
  const logFd = openSync(join(logDir, 'stdout.log'), 'a');
  const child = spawn(command, argv, {
    env: { ...process.env, TESSERA_PORT: String(port), ...env },
    stdio: ['ignore', logFd, 'inherit'],
  });
  closeSync(logFd);
  starting.add(child);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      starting.delete(child);
      rmSync(logDir, { recursive: true, force: true });
      resolve(code ?? signal);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  let foreign = false;
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) {
      const error = new Error(`${script} exited with ${child.exitCode} before listening`);
      error.portTaken = foreign;
      throw error;
    }
    try {
      await fetch(`${url}/healthz`);
      // An answer from another process on this port: wait for ours (it will fail to listen).
      if (!listensOn(child.pid, port)) {
        foreign = true;
        throw new Error('not ours');
      }
      // `cores` '0,1': left on both cores (several worker processes, bench/lib/workers.mjs).
      if (
        canPin &&
        cores !== '0,1' &&
        !pinAtSpawn &&
        spawnSync('taskset', ['-a', '-p', '-c', cores, String(child.pid)], { stdio: 'ignore' }).status !== 0
      ) {
        throw new Error(`could not pin ${script} (pid ${child.pid}) to core 0`);
      }
      const server = {
        url,
        pid: child.pid,
        /** null while running; the exit code or signal once it has stopped. */
        get exited() {
          return child.exitCode ?? child.signalCode;
        },
        async stop() {
          running.delete(server);
          if (child.exitCode === null) child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          const code = await exited;
          clearTimeout(timer);
          return code;
        },
      };
      starting.delete(child);
      running.add(server);
      return server;
    } catch {
      await sleep(100);
    }
  }
  child.kill('SIGKILL');
  throw new Error(`${script} did not start within 30 s`);
}

/** Runs a bench script on core 0 and parses the JSON it prints on stdout. */
export function runPinnedJson(script, args, env = {}) {
  const [command, argv] = pinned(0, process.execPath, [script, ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited with ${code}`));
      try {
        resolve(JSON.parse(out));
      } catch (error) {
        reject(new Error(`${script} printed no JSON: ${error.message}`));
      }
    });
  });
}

/**
 * What a browser would send back, from the Set-Cookie lines of a response: the name=value of each
 * cookie whose Path covers `path`, joined as one Cookie header.
 */
export function cookieHeaderFor(setCookies, path) {
  const pairs = [];
  for (const line of setCookies) {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const cookiePath = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) || '/';
    const maxAge = attributes.find((a) => a.toLowerCase().startsWith('max-age='));
    if (maxAge && Number(maxAge.slice(8)) <= 0) continue;
    if (path === cookiePath || path.startsWith(cookiePath.endsWith('/') ? cookiePath : `${cookiePath}/`)) {
      pairs.push(pair);
    }
  }
  return pairs.join('; ');
}

/** Bytes of header lines as HTTP/1.1 sends them: `Name: value\r\n` each. */
export const headerBytes = (name, values) =>
  values.reduce((sum, value) => sum + Buffer.byteLength(`${name}: ${value}\r\n`), 0);

const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** CPU seconds a process and every process under it (cluster workers) have used so far. */
export function cpuSecondsOfTree(pid) {
  let total = cpuSecondsOf(pid);
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const child of children ? children.split(' ') : []) total += cpuSecondsOfTree(Number(child));
    }
  } catch {
    // The process ended meanwhile.
  }
  return total;
}

/**
 * CPU seconds a process (all its threads) has used so far, from /proc (Linux; NaN elsewhere).
 * CPU per request is what a server costs whatever else the machine is doing, so it stays
 * meaningful when other work on a shared machine steals time and makes req/s drift.
 */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
