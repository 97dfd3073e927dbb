import { createHmac, hkdfSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll } from 'vitest';
import { loadConfig, type TesseraConfig } from '../src/config.js';
import { manualRuntime, type Runtime } from '../src/core/runtime.js';
import { type AppOptions, buildApp } from '../src/http/app.js';
import { ACCESS_TOKEN_COOKIE, SESSION_COOKIE } from '../src/http/credentials.js';
import { CSRF_HEADER } from '../src/http/plugins/csrf.js';
import type { RevocationBus } from '../src/store/bus.js';
import type { Stores } from '../src/store/ports/index.js';
import { createTessera, type Tessera } from '../src/tessera.js';
import { checkAnswersAgainstOpenApi, OPENAPI_CHECK_ENV } from './openapi-check.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
  tempDirs.push(dir);
  return dir;
}

export interface TestServer {
  tessera: Tessera;
  app: FastifyInstance;
  clock: ReturnType<typeof manualRuntime>;
  close(): Promise<void>;
}

/**
 * A whole Tessera (real store, real argon2, real fastify) with a manual clock. SQLite in a
 * temp dir by default, so every test file is isolated and runs in parallel safely.
 */
/**
 * Connections each test server may open to PostgreSQL (production default: 10). Two test files
 * at a time, some starting three nodes that each also hold a bus connection, went past
 * PostgreSQL's default max_connections (100): "sorry, too many clients already".
 */
export const TEST_POOL_SIZE = '4';

export async function startTessera(
  options: {
    env?: Record<string, string>;
    stores?: Stores;
    runtime?: Runtime;
    bus?: RevocationBus;
    app?: AppOptions;
  } = {},
): Promise<TestServer> {
  const clock = manualRuntime();
  const dir = tempDir();
  const env = {
    TESSERA_DATABASE_URL: `sqlite://${join(dir, 'tessera.db')}`,
    // Without TESSERA_SMTP_URL mail goes to the development outbox: here, never the repository's ./data.
    TESSERA_MAIL_OUTBOX_DIR: join(dir, 'outbox'),
    // A known anti-CSRF key, so helpers can compute the header (csrfFor); rate limits off,
    // since one test file logs in from one IP far more often than a person would
    // (test/http/defences/ turns them on where they are the subject).
    TESSERA_CSRF_SECRET: TEST_CSRF_SECRET,
    TESSERA_RATE_LIMIT: 'off',
    // PostgreSQL's default max_connections is 100 and the suite runs many servers at once.
    TESSERA_DATABASE_POOL_SIZE: TEST_POOL_SIZE,
    ...options.env,
  };
  const config: TesseraConfig = loadConfig(env);
  const tessera = await createTessera(config, {
    runtime: options.runtime ?? clock,
    stores: options.stores,
    bus: options.bus,
  });
  const app = await buildApp(tessera, { logger: false, ...options.app });
  // The whole suite's answers are checked against GET /openapi.json (vitest.config.ts turns it on).
  if (process.env[OPENAPI_CHECK_ENV]) checkAnswersAgainstOpenApi(app);
  appClocks.set(app, options.runtime ?? clock);
  return {
    tessera,
    app,
    clock,
    async close() {
      await app.close();
      await tessera.close();
    },
  };
}

// Each test server's clock, so helpers given only the app (codes of an authenticator app) read it.
const appClocks = new WeakMap<FastifyInstance, Runtime>();

/** The clock of a server startTessera built (the manual clock unless a runtime was passed). */
export function nowOf(app: FastifyInstance): number {
  const runtime = appClocks.get(app);
  if (!runtime) throw new Error('not a startTessera app: pass the clock explicitly');
  return runtime.now();
}

export const PASSWORD = 'correct horse battery staple';

/** fast-check runs for a property: `defaultRuns` in `npm test`, FUZZ_RUNS in `npm run fuzz`. */
export function fuzzRuns(defaultRuns: number): number {
  const runs = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(runs) && runs > 0 ? runs : defaultRuns;
}

let counter = 0;
/** A unique, valid email per call. */
export const newEmail = () => `user${++counter}.${process.pid}@example.com`;

export function post(app: FastifyInstance, url: string, body: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, payload: body as object, headers });
}

/** The session token from a response's Set-Cookie, or undefined. */
export function sessionCookieOf(response: LightMyRequestResponse): string | undefined {
  const cookie = response.cookies.find((c) => c.name === SESSION_COOKIE);
  return cookie?.value || undefined;
}

/** The session cookie, and the anti-CSRF header that goes with it (harmless on GET). */
export const withSession = (token: string) => ({
  cookie: `${SESSION_COOKIE}=${token}`,
  ...csrfFor(token),
});

/** TESSERA_CSRF_SECRET of every startTessera server (unless a test sets another). */
export const TEST_CSRF_SECRET = 'test-only-anti-csrf-secret-0123456789abcdef';

/**
 * The `x-csrf-token` header for a cookie-authenticated request, as GET /auth/csrf would give it:
 * pass the session token, the jwt-mode access token, or a whole Cookie header holding either.
 */
export function csrfFor(credential: string, secret = TEST_CSRF_SECRET): Record<string, string> {
  let token = credential;
  for (const part of credential.split(/;\s*/)) {
    const [name, value = ''] = part.split(/=(.*)/s);
    if (name === SESSION_COOKIE || name === ACCESS_TOKEN_COOKIE) token = value;
  }
  const parts = token.split('.');
  let loginId = parts[0] ?? '';
  if (parts.length === 3) {
    try {
      loginId = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString()).sid ?? '';
    } catch {}
  }
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'tessera anti-csrf v1', 32));
  const value = createHmac('sha256', key).update(`tessera anti-csrf v1\0${loginId}`).digest('base64url');
  return { [CSRF_HEADER]: value };
}

/** Registers a new user and logs in; returns the email and the session token. */
export async function registerAndLogin(
  app: FastifyInstance,
  email = newEmail(),
  password = PASSWORD,
  headers: Record<string, string> = {},
): Promise<{ email: string; token: string; userId: string }> {
  const registered = await post(app, '/auth/register', { email, password });
  if (registered.statusCode !== 201) throw new Error(`register failed: ${registered.body}`);
  const login = await post(app, '/auth/login', { email, password }, headers);
  const token = sessionCookieOf(login);
  if (login.statusCode !== 200 || !token) throw new Error(`login failed: ${login.body}`);
  return { email, token, userId: login.json().user.id };
}
