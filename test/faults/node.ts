import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { CLI, cleanEnv } from '../cli-process.js';
import { tempDir } from '../helpers.js';

/**
 * One Tessera node as operators run it: the built CLI (`tessera serve`) in its own process,
 * spoken to over real HTTP with keep-alive connections, so a crash is a dead process and not
 * something the test runner could paper over.
 */
export interface TesseraNode {
  url: string;
  child: ChildProcess;
  /** stderr so far (a crash leaves its stack here). */
  stderr(): string;
  alive(): boolean;
  request(method: string, path: string, options?: RequestOptions): Promise<Answer>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Give up after this long (a hang); default 20 s. */
  timeoutMs?: number;
  /** Another keep-alive pool than the node's shared one (a client of its own). */
  agent?: Agent;
}

/** A response, or the network error that came instead (`error` set, `status` 0). */
export interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
  headers: Record<string, string | string[] | undefined>;
  error?: string;
  /** When the request was sent and when the answer (or error) came, in ms (performance.now). */
  sentAt: number;
  doneAt: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `tessera serve` with `env` (plus a free port, quiet logs, no rate limits) and waits for /healthz. */
export async function startNode(env: Record<string, string>): Promise<TesseraNode> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: cleanEnv({
      TESSERA_PORT: String(port),
      TESSERA_HOST: '127.0.0.1',
      TESSERA_LOG_LEVEL: 'error',
      TESSERA_RATE_LIMIT: 'off',
      TESSERA_PASSWORD_HASH_THREADS: '1',
      ...env,
    }),
    cwd: tempDir(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const url = `http://127.0.0.1:${port}`;
  const node: TesseraNode = {
    url,
    child,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    request: (method, path, options = {}) => send(options.agent ?? agent, url, method, path, options),
    async stop() {
      agent.destroy();
      if (!node.alive()) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!node.alive()) throw new Error(`tessera serve exited ${child.exitCode}: ${stderr}`);
    const health = await node.request('GET', '/healthz', { timeoutMs: 2_000 });
    if (health.status === 200) return node;
    if (Date.now() > deadline) throw new Error(`tessera serve did not become healthy: ${stderr}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function send(
  agent: Agent,
  base: string,
  method: string,
  path: string,
  options: RequestOptions,
): Promise<Answer> {
  const sentAt = performance.now();
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve) => {
    const request = httpRequest(`${base}${path}`, { method, agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        text += chunk;
      });
      response.on('end', () => {
        let body: Record<string, unknown> | undefined;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = { raw: text };
        }
        resolve({
          status: response.statusCode ?? 0,
          body,
          headers: response.headers,
          sentAt,
          doneAt: performance.now(),
        });
      });
      response.on('error', (error) => fail(error));
    });
    const fail = (error: Error & { code?: string }) =>
      resolve({
        status: 0,
        body: undefined,
        headers: {},
        error: error.code ?? error.message,
        sentAt,
        doneAt: performance.now(),
      });
    request.setTimeout(options.timeoutMs ?? 20_000, () =>
      request.destroy(Object.assign(new Error('hang'), { code: 'HANG' })),
    );
    request.on('error', fail);
    request.end(payload);
  });
}
