import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { CLI, cleanEnv, runCli } from '../cli-process.js';
import { nextProof, rememberAuthenticator, stepOf, totpAt } from '../mfa-helpers.js';

export { CLI, runCli };

/**
 * Real Tessera server processes (`node dist/cli/main.js serve`, as deployed) on loopback ports,
 * sharing one PostgreSQL schema and one Redis key prefix: a deployment of N nodes in one test.
 */

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
}

export interface Node {
  name: string;
  url: string;
  process: ChildProcess;
  /** stderr so far, for failure messages. */
  errors(): string;
}

/** Starts `tessera serve` on a free loopback port; resolves once it listens. */
export async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: cleanEnv({ TESSERA_PORT: '0', TESSERA_HOST: '127.0.0.1', TESSERA_LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 20 s: ${stderr}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /tessera serving on (http:\/\/[\d.]+:\d+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1] as string);
        output = '';
      } else if (output.length > 100_000) {
        output = output.slice(-10_000);
      }
    };
    // Keep draining stdout (request logs) so the pipe never fills and stalls the server.
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${stderr}`));
    });
  });
  return { name, url, process: child, errors: () => stderr };
}

export async function stopNode(node: Node, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (node.process.exitCode !== null || node.process.signalCode !== null) return;
  const exited = once(node.process, 'exit');
  node.process.kill(signal);
  await exited;
}

/** The PostgreSQL URL with every table in `schema` (created here; libpq's `options` parameter). */
export async function schemaUrl(baseUrl: string, schema: string): Promise<string> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`create schema "${schema}"`);
  } finally {
    await client.end();
  }
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** One JSON request; a bearer token when given. Never throws for an HTTP status. */
export async function call(
  node: Node,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Registers (on one node) and logs in with transport bearer (on another); the body of the login. */
export async function registerAndLogin(
  register: Node,
  login: Node,
  email: string,
  password: string,
): Promise<Record<string, unknown>> {
  const registered = await call(register, 'POST', '/auth/register', { body: { email, password } });
  if (registered.status !== 201)
    throw new Error(`register on ${register.name}: ${JSON.stringify(registered)}`);
  return bearerLogin(login, email, password);
}

export async function bearerLogin(
  node: Node,
  email: string,
  password: string,
): Promise<Record<string, unknown>> {
  const login = await call(node, 'POST', '/auth/login', { body: { email, password, transport: 'bearer' } });
  if (login.status !== 200) throw new Error(`login on ${node.name}: ${JSON.stringify(login)}`);
  const mfaToken = login.body.mfaToken as string | undefined;
  // An admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES), then types codes.
  if (login.body.mfaEnrollmentRequired) {
    const begin = await call(node, 'POST', '/auth/mfa/totp', { body: { mfaToken } });
    const secret = begin.body.secret as string;
    const now = Date.now();
    const confirm = await call(node, 'POST', '/auth/mfa/totp/confirm', {
      body: { code: totpAt(secret, now), mfaToken },
    });
    if (confirm.status !== 200) throw new Error(`enrolment on ${node.name}: ${JSON.stringify(confirm)}`);
    rememberAuthenticator(email, secret, stepOf(now), confirm.body.recoveryCodes as string[]);
    return confirm.body;
  }
  if (login.body.mfaRequired) {
    const verify = await call(node, 'POST', '/auth/mfa/verify', {
      body: { ...nextProof(email, Date.now()), mfaToken },
    });
    if (verify.status !== 200) throw new Error(`second factor on ${node.name}: ${JSON.stringify(verify)}`);
    return verify.body;
  }
  return login.body;
}

/** The credential a bearer login returned: the session token, or the access token. */
export const credentialOf = (login: Record<string, unknown>) => (login.token ?? login.accessToken) as string;

/** Polls until `refused` holds on every node; resolves with the milliseconds it took. */
export async function untilRefused(
  nodes: Node[],
  probe: (node: Node) => Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  const pending = new Set(nodes);
  while (pending.size > 0) {
    for (const node of [...pending]) if (await probe(node)) pending.delete(node);
    if (pending.size === 0) break;
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `still accepted on ${[...pending].map((n) => n.name).join(', ')} after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now() - started;
}
