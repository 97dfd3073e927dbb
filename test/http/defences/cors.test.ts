import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { fuzzRuns, newEmail, PASSWORD, post, startTessera, type TestServer } from '../../helpers.js';

/** CORS for an exact allowlist: credentials for listed origins only, never `*`. */

const LISTED = ['https://app.example.com', 'http://localhost:5173'];

let server: TestServer;
beforeAll(async () => {
  server = await startTessera({ env: { TESSERA_CORS_ORIGINS: LISTED.join(' , ') } });
});
afterAll(() => server.close());

const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
];
const corsHeadersOf = (response: LightMyRequestResponse) =>
  Object.fromEntries(CORS_HEADERS.filter((h) => h in response.headers).map((h) => [h, response.headers[h]]));

const get = (origin?: string) =>
  server.app.inject({ method: 'GET', url: '/healthz', headers: origin === undefined ? {} : { origin } });
const preflight = (origin: string | undefined, method = 'POST') =>
  server.app.inject({
    method: 'OPTIONS',
    url: '/auth/login',
    headers: {
      ...(origin === undefined ? {} : { origin }),
      'access-control-request-method': method,
      'access-control-request-headers': 'content-type, x-csrf-token',
    },
  });

const NOT_LISTED = [
  'null',
  'https://evil.test',
  'https://app.example.com.evil.com', // suffix look-alike
  'https://evil-app.example.com',
  'https://app.example.co', // prefix look-alike
  'https://app.example.comm',
  'http://app.example.com', // scheme
  'https://app.example.com:443', // explicit default port: not the serialised origin
  'https://app.example.com:8443',
  'https://APP.EXAMPLE.COM', // browsers serialise lower case; exact means exact
  'https://app.example.com.', // trailing dot
  'https://app.example.com/',
  'https://evil.test/https://app.example.com',
  'https://app.example.com, https://evil.test',
  ' https://app.example.com',
  '*',
  '',
];

describe('simple requests', () => {
  it('a listed origin gets itself echoed with credentials, Vary: Origin, and never *', async () => {
    for (const origin of LISTED) {
      const response = await get(origin);
      expect(response.statusCode).toBe(200);
      expect(corsHeadersOf(response)).toEqual({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': 'Retry-After',
      });
      expect(response.headers.vary).toMatch(/\bOrigin\b/);
    }
  });

  it('unlisted, null and look-alike origins get no CORS header at all', async () => {
    for (const origin of NOT_LISTED) {
      const response = await get(origin);
      expect(corsHeadersOf(response), JSON.stringify(origin)).toEqual({});
      expect(response.headers.vary).toMatch(/\bOrigin\b/);
    }
    expect(corsHeadersOf(await get())).toEqual({});
  });

  it('error answers carry the same CORS headers, so a listed app can read the error code', async () => {
    const response = await server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: { origin: LISTED[0] as string },
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['access-control-allow-origin']).toBe(LISTED[0]);
  });

  it('property: any origin string outside the list never gets a CORS header, and * never appears', async () => {
    const origin = fc.oneof(
      fc.webUrl().map((url) => new URL(url).origin),
      fc.webUrl(),
      fc
        .constantFrom(...LISTED)
        .chain((listed) =>
          fc
            .tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }))
            .map(([a, b]) => `${a}${listed}${b}`),
        ),
      fc.string(),
    );
    await fc.assert(
      fc.asyncProperty(origin, async (value) => {
        fc.pre(/^[\t\x20-\x7e\x80-\xff]*$/.test(value)); // what an HTTP header can carry
        const response = await get(value);
        const headers = corsHeadersOf(response);
        if (LISTED.includes(value)) expect(headers['access-control-allow-origin']).toBe(value);
        else expect(headers).toEqual({});
        expect(Object.values(response.headers)).not.toContain('*');
      }),
      { numRuns: fuzzRuns(100) },
    );
  });
});

describe('preflight', () => {
  it('a listed origin is told the methods, headers (x-csrf-token included) and credentials', async () => {
    const response = await preflight(LISTED[0]);
    expect(response.statusCode).toBe(204);
    expect(corsHeadersOf(response)).toEqual({
      'access-control-allow-origin': LISTED[0],
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
      'access-control-allow-headers': 'authorization, content-type, x-csrf-token, x-tessera-background',
      'access-control-expose-headers': 'Retry-After',
      'access-control-max-age': '600',
    });
  });

  it('any other origin is refused with 403 and no CORS header (the browser then blocks the request)', async () => {
    for (const origin of [...NOT_LISTED, undefined]) {
      const response = await preflight(origin);
      expect(response.statusCode, JSON.stringify(origin)).toBe(403);
      expect(response.json().error).toBe('origin_not_allowed');
      expect(corsHeadersOf(response)).toEqual({});
    }
  });

  it('a plain OPTIONS (no Access-Control-Request-Method) is a 404 like any unknown route', async () => {
    const response = await server.app.inject({ method: 'OPTIONS', url: '/auth/login' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toBe('not_found');
  });
});

describe('a bearer client on a listed origin', () => {
  it('preflights, logs in with transport bearer and reads the answer', async () => {
    const email = newEmail();
    const origin = LISTED[1] as string;
    await post(server.app, '/auth/register', { email, password: PASSWORD }, { origin });
    expect((await preflight(origin)).statusCode).toBe(204);
    const login = await post(
      server.app,
      '/auth/login',
      { email, password: PASSWORD, transport: 'bearer' },
      { origin, 'sec-fetch-site': 'cross-site' },
    );
    expect(login.statusCode, login.body).toBe(200);
    expect(login.headers['access-control-allow-origin']).toBe(origin);
    expect(login.json().token).toEqual(expect.any(String));
    expect(login.headers['set-cookie']).toBeUndefined();
  });
});

describe('configuration', () => {
  it('refuses *, null, paths and anything that is not an exact origin, naming the variable', () => {
    for (const bad of [
      '*',
      'null',
      'https://app.example.com/',
      'https://app.example.com/path',
      'app.example.com',
      'ftp://x.test',
      'https://*.example.com',
    ]) {
      expect(() => loadConfig({ TESSERA_CORS_ORIGINS: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ TESSERA_CORS_ORIGINS: bad }), bad).toThrow(/^TESSERA_CORS_ORIGINS /);
    }
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ TESSERA_CORS_ORIGINS: 'https://a.test, http://localhost:5173' }).corsOrigins).toEqual(
      ['https://a.test', 'http://localhost:5173'],
    );
  });
});
