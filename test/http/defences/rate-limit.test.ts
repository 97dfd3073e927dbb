import { setTimeout as sleep } from 'node:timers/promises';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ActionPolicy,
  DEFAULT_RATE_LIMITS,
  ipKey,
  type KeyPolicy,
  type RateLimitedAction,
} from '../../../src/http/plugins/rate-limit.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer, withSession } from '../../helpers.js';

/**
 * Brute force: per IP and per account (keyed with the IP), exponential backoff, 429 with
 * Retry-After, and no lockout of the owner by an attacker elsewhere. The counters run on real
 * time, so waits here are real (about 1 s in all).
 */

const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

const roomy: KeyPolicy = {
  free: 10_000,
  baseSeconds: 1,
  maxSeconds: 1,
  windowSeconds: 3600,
  onSuccess: 'refund',
};

/** A server with rate limits on; `policy` overrides parts of the defaults. */
async function limited(
  policy: Partial<Record<RateLimitedAction, Partial<ActionPolicy>>> = {},
  env: Record<string, string> = {},
) {
  const merged = Object.fromEntries(
    (Object.keys(DEFAULT_RATE_LIMITS) as RateLimitedAction[]).map((action) => [
      action,
      { ...DEFAULT_RATE_LIMITS[action], ...policy[action] },
    ]),
  ) as Record<RateLimitedAction, ActionPolicy>;
  const server = await startTessera({
    env: { TESSERA_RATE_LIMIT: 'on', ...env },
    app: { rateLimits: { policy: merged } },
  });
  servers.push(server);
  return server;
}

const loginFrom = (server: TestServer, remoteAddress: string, email: string, password: string) =>
  server.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password, transport: 'bearer' },
    remoteAddress,
  });

function expectRateLimited(response: LightMyRequestResponse, retryAfter?: number) {
  expect(response.statusCode, response.body).toBe(429);
  expect(response.json()).toEqual({
    error: 'rate_limited',
    message: expect.stringMatching(/try again in \d+ seconds?/),
  });
  const header = Number(response.headers['retry-after']);
  expect(header).toBeGreaterThanOrEqual(1);
  if (retryAfter !== undefined) expect(header).toBe(retryAfter);
  return header;
}

async function registered(server: TestServer) {
  const email = newEmail();
  const response = await post(server.app, '/auth/register', { email, password: PASSWORD });
  expect(response.statusCode).toBe(201);
  return email;
}

describe('login, per account and IP', () => {
  it('with the defaults: 5 free failures, then 1 s, then 2 s (exponential), and a blocked IP cannot even try the right password', async () => {
    const server = await limited();
    const email = await registered(server);
    const attacker = '198.51.100.7';
    for (let i = 0; i < 6; i++)
      expect((await loginFrom(server, attacker, email, `wrong ${i}`)).statusCode).toBe(401);
    expectRateLimited(await loginFrom(server, attacker, email, 'wrong again'), 1);
    expectRateLimited(await loginFrom(server, attacker, email, PASSWORD), 1);
    await sleep(1100);
    expect((await loginFrom(server, attacker, email, 'wrong 7')).statusCode).toBe(401);
    // The next wait doubled.
    expectRateLimited(await loginFrom(server, attacker, email, 'wrong 8'), 2);
  });

  it('the owner on another IP still logs in while the attacker is blocked; a success resets the owner key', async () => {
    const server = await limited({
      login: { account: { ...DEFAULT_RATE_LIMITS.login.account, free: 2, baseSeconds: 60 } },
    });
    const email = await registered(server);
    const attacker = '203.0.113.66';
    const owner = '192.0.2.10';
    for (let i = 0; i < 3; i++) await loginFrom(server, attacker, email, `guess ${i}`);
    expectRateLimited(await loginFrom(server, attacker, email, 'guess'), 60);

    // The owner mistypes twice, succeeds, and the slate is clean again.
    expect((await loginFrom(server, owner, email, 'typo one')).statusCode).toBe(401);
    expect((await loginFrom(server, owner, email, 'typo two')).statusCode).toBe(401);
    expect((await loginFrom(server, owner, email, PASSWORD)).statusCode).toBe(200);
    expect((await loginFrom(server, owner, email, 'typo three')).statusCode).toBe(401);
    expect((await loginFrom(server, owner, email, 'typo four')).statusCode).toBe(401);
    expect((await loginFrom(server, owner, email, PASSWORD)).statusCode).toBe(200);
    // The attacker is still waiting.
    expectRateLimited(await loginFrom(server, attacker, email, PASSWORD));
  });

  it('unknown and known emails back off alike (a 429 says nothing about the account)', async () => {
    const server = await limited({
      login: { account: { ...DEFAULT_RATE_LIMITS.login.account, free: 2, baseSeconds: 60 } },
    });
    const known = await registered(server);
    const unknown = newEmail();
    const statuses = async (email: string) => {
      const seen: number[] = [];
      for (let i = 0; i < 5; i++)
        seen.push((await loginFrom(server, '198.51.100.20', email, `nope ${i}`)).statusCode);
      return seen;
    };
    const forKnown = await statuses(known);
    expect(forKnown).toEqual([401, 401, 401, 429, 429]);
    expect(await statuses(unknown)).toEqual(forKnown);
    // Case and compatibility variants of the email share the key.
    expectRateLimited(await loginFrom(server, '198.51.100.20', known.toUpperCase(), 'x'));
  });

  it('a parallel burst cannot outrun the count: at most free + 1 attempts reach the password check', async () => {
    const server = await limited({
      login: { account: { ...DEFAULT_RATE_LIMITS.login.account, free: 3, baseSeconds: 60 } },
    });
    const email = await registered(server);
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => loginFrom(server, '198.51.100.30', email, `parallel ${i}`)),
    );
    const checked = burst.filter((r) => r.statusCode === 401).length;
    expect(checked).toBeLessThanOrEqual(4);
    expect(burst.filter((r) => r.statusCode === 429)).toHaveLength(30 - checked);
  });
});

describe('login, per IP', () => {
  it('one IP spraying many accounts is stopped; other IPs are not; successes and malformed bodies do not count', async () => {
    const server = await limited({
      login: { ip: { free: 3, baseSeconds: 60, maxSeconds: 3600, windowSeconds: 3600, onSuccess: 'refund' } },
    });
    const sprayer = '198.51.100.40';
    const email = await registered(server);
    // Successes and malformed requests are refunded.
    for (let i = 0; i < 5; i++)
      expect((await loginFrom(server, sprayer, email, PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) {
      const malformed = await server.app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: 1 },
        remoteAddress: sprayer,
      });
      expect(malformed.statusCode).toBe(400);
    }
    for (let i = 0; i < 4; i++)
      expect((await loginFrom(server, sprayer, newEmail(), 'Winter2025!')).statusCode).toBe(401);
    expectRateLimited(await loginFrom(server, sprayer, newEmail(), 'Winter2025!'), 60);
    expect((await loginFrom(server, '198.51.100.41', newEmail(), 'Winter2025!')).statusCode).toBe(401);
  });

  it('IPv6 clients are counted by their /64', async () => {
    expect(ipKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(ipKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(ipKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipKey('::1')).toBe('0:0:0:0::/64');
    expect(ipKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(ipKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(ipKey('192.0.2.1')).toBe('192.0.2.1');

    const server = await limited({
      login: { ip: { free: 2, baseSeconds: 60, maxSeconds: 3600, windowSeconds: 3600, onSuccess: 'refund' } },
    });
    await loginFrom(server, '2001:db8:1:2::1', newEmail(), 'x');
    await loginFrom(server, '2001:db8:1:2::2', newEmail(), 'x');
    await loginFrom(server, '2001:db8:1:2:aaaa::3', newEmail(), 'x');
    expectRateLimited(await loginFrom(server, '2001:db8:1:2:ffff:ffff:ffff:ffff', newEmail(), 'x'));
    expect((await loginFrom(server, '2001:db8:1:3::1', newEmail(), 'x')).statusCode).toBe(401);
  });
});

describe('X-Forwarded-For', () => {
  const spoofed = (server: TestServer, remoteAddress: string, forwardedFor: string, email: string) =>
    server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email, password: 'wrong password', transport: 'bearer' },
      remoteAddress,
      headers: { 'x-forwarded-for': forwardedFor },
    });
  const ipPolicy = {
    login: {
      ip: { free: 2, baseSeconds: 60, maxSeconds: 3600, windowSeconds: 3600, onSuccess: 'refund' as const },
    },
  };

  it('from a client that is not a trusted proxy it is ignored: rotating it does not escape the limit', async () => {
    const server = await limited(ipPolicy);
    for (let i = 0; i < 3; i++) await spoofed(server, '198.51.100.50', `203.0.113.${i}`, newEmail());
    expectRateLimited(await spoofed(server, '198.51.100.50', '203.0.113.99', newEmail()));
    // ...and sessions record the socket address, not the claimed one.
    const email = await registered(server);
    const login = await server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email, password: PASSWORD },
      remoteAddress: '198.51.100.51',
      headers: { 'x-forwarded-for': '203.0.113.1' },
    });
    const token = login.cookies.find((c) => c.name === '__Host-tessera_session')?.value as string;
    const devices = await server.app.inject({
      method: 'GET',
      url: '/auth/sessions',
      headers: withSession(token),
    });
    expect(devices.json().sessions[0].ip).toBe('198.51.100.51');
  });

  it('from TESSERA_TRUSTED_PROXIES it names the client: each client its own count, the proxy never blocked', async () => {
    const server = await limited(ipPolicy, { TESSERA_TRUSTED_PROXIES: '10.0.0.1' });
    for (let i = 0; i < 3; i++) await spoofed(server, '10.0.0.1', '203.0.113.7', newEmail());
    expectRateLimited(await spoofed(server, '10.0.0.1', '203.0.113.7', newEmail()));
    expect((await spoofed(server, '10.0.0.1', '203.0.113.8', newEmail())).statusCode).toBe(401);
    const email = await registered(server);
    const login = await server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email, password: PASSWORD },
      remoteAddress: '10.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    const token = login.cookies.find((c) => c.name === '__Host-tessera_session')?.value as string;
    const devices = await server.app.inject({
      method: 'GET',
      url: '/auth/sessions',
      headers: withSession(token),
    });
    expect(devices.json().sessions[0].ip).toBe('203.0.113.9');
  });
});

describe('register, refresh and password change', () => {
  it('register: per IP, successes count (each costs a hash and a row)', async () => {
    const server = await limited({
      register: {
        ip: { free: 2, baseSeconds: 60, maxSeconds: 3600, windowSeconds: 3600, onSuccess: 'keep' },
        account: roomy,
      },
    });
    const from = (email: string) =>
      server.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { email, password: PASSWORD },
        remoteAddress: '198.51.100.60',
      });
    for (let i = 0; i < 3; i++) expect((await from(newEmail())).statusCode).toBe(201);
    expectRateLimited(await from(newEmail()), 60);
  });

  it('register: one email probed again and again (409 email_taken) backs off from any IP', async () => {
    const server = await limited({
      register: {
        ip: roomy,
        account: { free: 2, baseSeconds: 60, maxSeconds: 3600, windowSeconds: 3600, onSuccess: 'keep' },
      },
    });
    const email = await registered(server);
    const probe = (ip: string) =>
      server.app.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { email, password: PASSWORD },
        remoteAddress: ip,
      });
    expect((await probe('198.51.100.61')).statusCode).toBe(409);
    expect((await probe('198.51.100.62')).statusCode).toBe(409);
    expectRateLimited(await probe('198.51.100.63'));
  });

  it('password change: wrong current passwords back off per login; this login only', async () => {
    const server = await limited({
      password: {
        ip: roomy,
        account: { free: 2, baseSeconds: 60, maxSeconds: 3600, windowSeconds: 86_400, onSuccess: 'reset' },
      },
    });
    const email = await registered(server);
    const loginToken = async () =>
      (await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })).json()
        .token as string;
    const stolen = await loginToken();
    const change = (token: string, currentPassword: string) =>
      post(
        server.app,
        '/auth/password',
        { currentPassword, newPassword: 'an entirely new passphrase' },
        { authorization: `Bearer ${token}` },
      );
    for (let i = 0; i < 3; i++) expect((await change(stolen, `guess ${i}`)).statusCode).toBe(403);
    expectRateLimited(await change(stolen, PASSWORD), 60);
    // The owner's own device is not blocked by what was tried with the stolen one.
    const mine = await loginToken();
    expect((await change(mine, PASSWORD)).statusCode).toBe(200);
  });

  it('API-key creation: wrong passwords count with password-change guesses, per login', async () => {
    const server = await limited({
      password: {
        ip: roomy,
        account: { free: 2, baseSeconds: 60, maxSeconds: 3600, windowSeconds: 86_400, onSuccess: 'reset' },
      },
    });
    const email = await registered(server);
    const { token } = (
      await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const create = (password: string) =>
      post(
        server.app,
        '/auth/api-keys',
        { name: 'k', scopes: ['profile'], password },
        { authorization: `Bearer ${token}` },
      );
    for (let i = 0; i < 3; i++) expect((await create(`guess ${i}`)).json().error).toBe('invalid_password');
    expectRateLimited(await create(PASSWORD), 60);
    expect(await server.tessera.oauth.apiKeys.list({})).toEqual([]);
  });

  it('refresh: refused tokens back off per IP; a good refresh is not counted', async () => {
    const server = await limited(
      {
        refresh: {
          ip: { free: 2, baseSeconds: 60, maxSeconds: 3600, windowSeconds: 3600, onSuccess: 'refund' },
          account: roomy,
        },
      },
      { TESSERA_MODE: 'jwt' },
    );
    const email = await registered(server);
    let { refreshToken } = (
      await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const refresh = (token: string, ip = '198.51.100.70') =>
      server.app.inject({
        method: 'POST',
        url: '/auth/refresh',
        payload: { refreshToken: token },
        remoteAddress: ip,
      });
    for (let i = 0; i < 4; i++) {
      const ok = await refresh(refreshToken);
      expect(ok.statusCode, ok.body).toBe(200);
      refreshToken = ok.json().refreshToken;
    }
    for (let i = 0; i < 3; i++)
      expect((await refresh(`${'A'.repeat(22)}.${'B'.repeat(43)}`)).statusCode).toBe(401);
    expectRateLimited(await refresh(refreshToken));
    expect((await refresh(refreshToken, '198.51.100.71')).statusCode).toBe(200);
  });

  it('refresh: one login family refreshing in a loop is slowed down', async () => {
    const server = await limited(
      {
        refresh: {
          ip: roomy,
          account: { free: 3, baseSeconds: 60, maxSeconds: 900, windowSeconds: 600, onSuccess: 'keep' },
        },
      },
      { TESSERA_MODE: 'jwt' },
    );
    const email = await registered(server);
    let { refreshToken } = (
      await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json();
    for (let i = 0; i < 4; i++) {
      const ok = await post(server.app, '/auth/refresh', { refreshToken });
      expect(ok.statusCode).toBe(200);
      refreshToken = ok.json().refreshToken;
    }
    expectRateLimited(await post(server.app, '/auth/refresh', { refreshToken }), 60);
  });
});

describe('configuration', () => {
  it('TESSERA_RATE_LIMIT=off turns the limits off (for a gateway that does it, and for tests)', async () => {
    const server = await startTessera({ env: { TESSERA_RATE_LIMIT: 'off' } });
    servers.push(server);
    const email = await registered(server);
    for (let i = 0; i < 8; i++)
      expect((await loginFrom(server, '198.51.100.80', email, 'wrong')).statusCode).toBe(401);
  });

  it('the documented defaults', () => {
    expect(DEFAULT_RATE_LIMITS.login.account).toMatchObject({
      free: 5,
      baseSeconds: 1,
      maxSeconds: 900,
      onSuccess: 'reset',
    });
    expect(DEFAULT_RATE_LIMITS.login.ip).toMatchObject({ free: 100, windowSeconds: 3600 });
  });
});
