import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BREACH_CHECK_TIMEOUT_MS } from '../../src/breached-passwords.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CLI, cleanEnv } from '../cli-process.js';
import {
  newEmail,
  post,
  registerAndLogin,
  startTessera,
  type TestServer,
  tempDir,
  withSession,
} from '../helpers.js';

/**
 * New passwords are checked against a local server that speaks the Have I Been Pwned range
 * format (GET /range/<5 hex> → `SUFFIX:COUNT` lines, padded with `SUFFIX:0`); only the prefix
 * ever leaves Tessera, and an unreachable or silent service fails open, with an audit note.
 */

const BREACHED = 'correct horse battery staple';
const ALSO_BREACHED = 'Tr0ub4dor&3 again';
/** In the answer only as a padding line (count 0): not breached. */
const PADDED_ONLY = 'a padded line is not a breach';
const CLEAN = 'vq7-Lantern-Oboe-91-quartz';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex').toUpperCase();

interface RangeServer {
  url: string;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function startRangeServer(options: { silent?: boolean } = {}): Promise<RangeServer> {
  const counts = new Map([
    [sha1(BREACHED), 123_456],
    [sha1(ALSO_BREACHED), 3],
    [sha1(PADDED_ONLY), 0],
  ]);
  const requests: RangeServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    requests.push({ path: request.url ?? '', headers: request.headers });
    if (options.silent) return; // never answers: the client's timeout must end the wait
    const match = /^\/range\/([0-9A-F]{5})$/.exec(request.url ?? '');
    if (!match) {
      response.writeHead(400).end('The hash prefix was not in a valid format');
      return;
    }
    const prefix = match[1] as string;
    const lines: string[] = [];
    for (const [hash, count] of counts) if (hash.startsWith(prefix)) lines.push(`${hash.slice(5)}:${count}`);
    // Other suffixes under the prefix, and padding, as the real service sends them.
    for (let i = 0; i < 40; i++) lines.push(`${sha1(`other ${prefix} ${i}`).slice(5)}:${i < 20 ? i + 1 : 0}`);
    response.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/range/`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('breached-password check (TESSERA_BREACHED_PASSWORDS=hibp)', () => {
  let range: RangeServer;
  let server: TestServer;
  beforeAll(async () => {
    range = await startRangeServer();
    server = await startTessera({
      env: { TESSERA_BREACHED_PASSWORDS: 'hibp', TESSERA_BREACHED_PASSWORDS_URL: range.url },
    });
  });
  afterAll(async () => {
    await server.close();
    await range.close();
  });

  it('refuses a breached password at registration with 400 password_breached', async () => {
    for (const password of [BREACHED, ALSO_BREACHED]) {
      const response = await post(server.app, '/auth/register', { email: newEmail(), password });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        error: 'password_breached',
        message: expect.stringMatching(/breach/),
      });
    }
  });

  it('accepts a password the range does not list, or lists only as padding (count 0)', async () => {
    for (const password of [CLEAN, PADDED_ONLY]) {
      expect((await post(server.app, '/auth/register', { email: newEmail(), password })).statusCode).toBe(
        201,
      );
    }
  });

  it('refuses a breached password as a new password too', async () => {
    const { token } = await registerAndLogin(server.app, newEmail(), CLEAN);
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/password',
      payload: { currentPassword: CLEAN, newPassword: BREACHED },
      headers: withSession(token),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe('password_breached');
  });

  it('refuses a breached password at a reset by email too, and the link still works after', async () => {
    const email = newEmail();
    await registerAndLogin(server.app, email, CLEAN);
    expect((await post(server.app, '/auth/password/forgot', { email })).statusCode).toBe(202);
    // No mail worker runs here: the reset mail waits in the outbox, its link in the text.
    const outbox = server.tessera.email.stores.outbox;
    let token: string | undefined;
    for (let tries = 0; token === undefined && tries < 100; tries++) {
      const now = server.clock.now();
      const mails = await outbox.claimMail(now, 'breached-test', now + 60_000, 50);
      const mail = mails.find((m) => m.to === email && m.kind === 'reset');
      const link = mail && /token=([^\s&"]+)/.exec(mail.text)?.[1];
      if (link) token = decodeURIComponent(link);
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(token).toBeDefined();
    const refused = await post(server.app, '/auth/password/reset', { token, newPassword: BREACHED });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toBe('password_breached');
    const reset = await post(server.app, '/auth/password/reset', { token, newPassword: `${CLEAN} 2` });
    expect(reset.statusCode, reset.body).toBe(200);
  });

  it('sends only the 5-digit SHA-1 prefix (k-anonymity), asking for padding', () => {
    expect(range.requests.length).toBeGreaterThan(0);
    for (const { path, headers } of range.requests) {
      expect(path).toMatch(/^\/range\/[0-9A-F]{5}$/);
      expect(headers['add-padding']).toBe('true');
    }
    const sent = JSON.stringify(range.requests);
    for (const password of [BREACHED, ALSO_BREACHED, CLEAN]) {
      expect(sent).not.toContain(password);
      expect(sent).not.toContain(sha1(password).slice(5));
    }
  });
});

describe('when the range API cannot be reached: fail open, say so', () => {
  it('a closed port: the password is accepted, the skip audited and counted', async () => {
    const range = await startRangeServer();
    const url = range.url;
    await range.close(); // nothing listens there any more
    const server = await startTessera({
      env: { TESSERA_BREACHED_PASSWORDS: 'hibp', TESSERA_BREACHED_PASSWORDS_URL: url },
    });
    try {
      const response = await post(server.app, '/auth/register', { email: newEmail(), password: BREACHED });
      expect(response.statusCode).toBe(201);
      expect(server.tessera.breachedPasswords?.skipped).toBe(1);
      // The audit row is written without holding up the answer.
      await expect
        .poll(async () => (await server.tessera.audit.list({ type: 'password.breach_check_skipped' })).length)
        .toBe(1);
      const [event] = await server.tessera.audit.list({ type: 'password.breach_check_skipped' });
      expect(JSON.parse(event?.detail ?? '{}').reason).toMatch(/ECONNREFUSED/);
    } finally {
      await server.close();
    }
  });

  it(`a server that never answers: registration waits at most ~${BREACH_CHECK_TIMEOUT_MS} ms for it`, async () => {
    const range = await startRangeServer({ silent: true });
    const server = await startTessera({
      env: { TESSERA_BREACHED_PASSWORDS: 'hibp', TESSERA_BREACHED_PASSWORDS_URL: range.url },
    });
    try {
      const started = Date.now();
      const response = await post(server.app, '/auth/register', { email: newEmail(), password: CLEAN });
      const elapsed = Date.now() - started;
      expect(response.statusCode).toBe(201);
      expect(elapsed).toBeGreaterThanOrEqual(BREACH_CHECK_TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(BREACH_CHECK_TIMEOUT_MS + 8_000); // hashing on a loaded box
      expect(range.requests).toHaveLength(1);
      await expect
        .poll(async () => (await server.tessera.audit.list({ type: 'password.breach_check_skipped' })).length)
        .toBe(1);
      const [event] = await server.tessera.audit.list({ type: 'password.breach_check_skipped' });
      expect(JSON.parse(event?.detail ?? '{}').reason).toBe('timed out');
    } finally {
      await server.close();
      await range.close();
    }
  });
});

describe('the running server', () => {
  it('logs one warning line naming the reason when a check is skipped', async () => {
    const range = await startRangeServer();
    await range.close(); // unreachable
    const cwd = tempDir();
    const child = spawn(process.execPath, [CLI, 'serve'], {
      cwd,
      env: cleanEnv({
        TESSERA_PORT: '0',
        TESSERA_DATABASE_URL: `sqlite://${cwd}/t.db`,
        TESSERA_BREACHED_PASSWORDS: 'hibp',
        TESSERA_BREACHED_PASSWORDS_URL: range.url,
      }),
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    try {
      await expect
        .poll(() => /tessera serving on (http:\/\/[\d.]+:\d+)/.test(output), { timeout: 20_000 })
        .toBe(true);
      const url = (/tessera serving on (http:\/\/[\d.]+:\d+)/.exec(output) as RegExpExecArray)[1];
      const registered = await fetch(`${url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: newEmail(), password: CLEAN }),
      });
      expect(registered.status).toBe(201);
      await expect
        .poll(() => output.includes('breached-password check skipped'), { timeout: 10_000 })
        .toBe(true);
      const line = output
        .split('\n')
        .filter((l) => l.includes('breached-password check skipped'))
        .map((l) => JSON.parse(l) as { level: number; reason: string; msg: string });
      expect(line).toHaveLength(1);
      expect(line[0]).toMatchObject({ level: 40, reason: 'ECONNREFUSED' });
      expect(output).not.toContain(CLEAN);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }, 40_000);
});

describe('configuration', () => {
  const tls = { TESSERA_TRUSTED_PROXIES: '10.0.0.1', TESSERA_DATABASE_URL: 'memory:' };
  it('is on (hibp) in production and off elsewhere by default, so development needs no network', () => {
    expect(loadConfig({ NODE_ENV: 'production', ...tls }).breachedPasswords).toEqual({
      rangeUrl: 'https://api.pwnedpasswords.com/range/',
    });
    expect(loadConfig({}).breachedPasswords).toBeUndefined();
    expect(
      loadConfig({ NODE_ENV: 'production', ...tls, TESSERA_BREACHED_PASSWORDS: 'off' }).breachedPasswords,
    ).toBe(undefined);
    expect(loadConfig({ TESSERA_BREACHED_PASSWORDS: 'hibp' }).breachedPasswords).toBeDefined();
  });

  it('a bad value stops the start with one line naming the variable', () => {
    expect(() => loadConfig({ TESSERA_BREACHED_PASSWORDS: 'yes' })).toThrow(ConfigError);
    expect(() => loadConfig({ TESSERA_BREACHED_PASSWORDS: 'yes' })).toThrow(/^TESSERA_BREACHED_PASSWORDS /);
    expect(() => loadConfig({ TESSERA_BREACHED_PASSWORDS_URL: 'ftp://mirror/range/' })).toThrow(
      /^TESSERA_BREACHED_PASSWORDS_URL /,
    );
  });
});
