import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../../src/http/plugins/csrf.js';
import {
  newEmail,
  PASSWORD,
  post,
  registerAndLogin,
  startTessera,
  type TestServer,
  withSession,
} from '../../helpers.js';

/**
 * Where a state-changing request comes from (Origin and Sec-Fetch-Site). Login and register
 * are covered too (login CSRF); GET and bearer requests are not subject to it.
 */

const LISTED = 'https://app.example.com';
const HOST = 'auth.example.com';

let server: TestServer;
beforeAll(async () => {
  server = await startTessera({ env: { TESSERA_CORS_ORIGINS: LISTED } });
});
afterAll(() => server.close());

/** An empty login body: 400 invalid_request when the Origin check lets it through, no hashing. */
const login = (headers: Record<string, string>, remoteAddress?: string) =>
  server.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: {},
    headers: { host: HOST, ...headers },
    remoteAddress,
  });

const refused = (response: LightMyRequestResponse) =>
  response.statusCode === 403 && response.json().error === 'origin_not_allowed';

describe('the Origin / Sec-Fetch-Site policy on POST /auth/login', () => {
  const cases: Array<[string, Record<string, string>, 'allowed' | 'refused']> = [
    ['no browser metadata (curl, a server, a native app)', {}, 'allowed'],
    ['this origin', { origin: `http://${HOST}` }, 'allowed'],
    ['a listed origin', { origin: LISTED }, 'allowed'],
    [
      'a listed origin, cross-site by fetch metadata',
      { origin: LISTED, 'sec-fetch-site': 'cross-site' },
      'allowed',
    ],
    ['same-origin by fetch metadata', { 'sec-fetch-site': 'same-origin' }, 'allowed'],
    [
      'same-origin by fetch metadata with a rewritten Host',
      { origin: 'https://public.example.com', 'sec-fetch-site': 'same-origin' },
      'allowed',
    ],
    ['typed by the user (none)', { 'sec-fetch-site': 'none' }, 'allowed'],
    ['another site', { origin: 'https://evil.test' }, 'refused'],
    [
      'another site, by fetch metadata',
      { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
      'refused',
    ],
    ['cross-site without Origin', { 'sec-fetch-site': 'cross-site' }, 'refused'],
    [
      'a sibling subdomain (same-site)',
      { origin: 'https://blog.example.com', 'sec-fetch-site': 'same-site' },
      'refused',
    ],
    ['Origin: null (sandboxed frame, file: page)', { origin: 'null' }, 'refused'],
    ['Origin: null claiming same-origin', { origin: 'null', 'sec-fetch-site': 'same-origin' }, 'refused'],
    ['a look-alike of the listed origin', { origin: 'https://app.example.com.evil.test' }, 'refused'],
    ['a look-alike of this origin', { origin: `http://${HOST}.evil.test` }, 'refused'],
    ['this host on another scheme', { origin: `https://${HOST}` }, 'refused'],
    ['this host on another port', { origin: `http://${HOST}:8443` }, 'refused'],
    ['the listed origin with a path', { origin: `${LISTED}/` }, 'refused'],
    ['two origins in one header', { origin: `${LISTED}, https://evil.test` }, 'refused'],
    ['an unknown fetch-metadata value', { 'sec-fetch-site': 'same-origin, cross-site' }, 'refused'],
  ];
  for (const [name, headers, expected] of cases) {
    it(`${name}: ${expected}`, async () => {
      const response = await login(headers);
      if (expected === 'refused') {
        expect(refused(response), response.body).toBe(true);
        expect(response.json().message).toMatch(/not allowed/);
      } else {
        expect(response.statusCode, response.body).toBe(400);
        expect(response.json().error).toBe('invalid_request');
      }
    });
  }
});

describe('what the policy covers', () => {
  it('register from another site is refused and creates nothing', async () => {
    const email = newEmail();
    const response = await post(
      server.app,
      '/auth/register',
      { email, password: PASSWORD },
      { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
    );
    expect(refused(response)).toBe(true);
    expect(await server.tessera.accounts.findByEmail(email)).toBeUndefined();
  });

  it('a cookie-authenticated change from another site is refused even with the right CSRF token', async () => {
    const { token } = await registerAndLogin(server.app);
    for (const [method, url] of [
      ['POST', '/auth/logout'],
      ['POST', '/auth/logout-all'],
      ['DELETE', '/auth/sessions/whatever'],
    ] as const) {
      const response = await server.app.inject({
        method,
        url,
        headers: { ...withSession(token), origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
      });
      expect(refused(response), `${method} ${url}`).toBe(true);
    }
    const alive = await server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: withSession(token),
    });
    expect(alive.statusCode).toBe(200);
  });

  it('GET is never refused for its origin (it changes nothing)', async () => {
    const { token } = await registerAndLogin(server.app);
    const response = await server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: { ...withSession(token), origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' },
    });
    expect(response.statusCode).toBe(200);
  });

  it('bearer requests are exempt; an Authorization header a browser attaches by itself (Basic) is not', async () => {
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const { token } = (
      await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
    ).json();
    const fromElsewhere = { origin: 'https://evil.test', 'sec-fetch-site': 'cross-site' };
    const bearer = await post(server.app, '/auth/logout-all', undefined, {
      authorization: `Bearer ${token}`,
      ...fromElsewhere,
    });
    expect(bearer.statusCode).toBe(200);
    // A browser resends cached Basic credentials on a cross-site form post: no exemption.
    const basic = await post(
      server.app,
      '/auth/login',
      { email, password: PASSWORD },
      {
        authorization: `Basic ${Buffer.from('staging:secret').toString('base64')}`,
        ...fromElsewhere,
      },
    );
    expect(refused(basic)).toBe(true);
  });
});

describe('behind a proxy', () => {
  let proxied: TestServer;
  beforeAll(async () => {
    proxied = await startTessera({ env: { TESSERA_TRUSTED_PROXIES: '10.0.0.1' } });
  });
  afterAll(() => proxied.close());

  const viaProxy = (remoteAddress: string, origin: string) =>
    proxied.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: {},
      remoteAddress,
      headers: {
        host: '127.0.0.1:3000',
        origin,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': HOST,
      },
    });

  it('this origin is scheme://host as the trusted proxy forwards them', async () => {
    expect((await viaProxy('10.0.0.1', `https://${HOST}`)).statusCode).toBe(400);
    expect(refused(await viaProxy('10.0.0.1', 'http://127.0.0.1:3000'))).toBe(true);
  });

  it('an untrusted client cannot claim another origin through X-Forwarded-*', async () => {
    expect(refused(await viaProxy('203.0.113.9', `https://${HOST}`))).toBe(true);
    expect((await viaProxy('203.0.113.9', 'http://127.0.0.1:3000')).statusCode).toBe(400);
  });
});

describe('jwt mode refresh', () => {
  it('POST /auth/refresh checks the origin even with a Bearer header (the refresh cookie ignores it)', async () => {
    const jwt = await startTessera({ env: { TESSERA_MODE: 'jwt' } });
    const response = await jwt.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      headers: {
        authorization: 'Bearer whatever',
        origin: 'https://evil.test',
        'sec-fetch-site': 'cross-site',
        [CSRF_HEADER]: 'x',
      },
    });
    expect(refused(response)).toBe(true);
    await jwt.close();
  });
});
