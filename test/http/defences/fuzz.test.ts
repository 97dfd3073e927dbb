import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE, SESSION_COOKIE } from '../../../src/http/credentials.js';
import { CSRF_COOKIE, CSRF_HEADER } from '../../../src/http/plugins/csrf.js';
import { csrfFor, fuzzRuns, newEmail, PASSWORD, post, startTessera, type TestServer } from '../../helpers.js';
import { loginWithSecondFactor } from '../../mfa-helpers.js';

/**
 * Hostile input over every route, in session and jwt mode (test/http/bad-input.test.ts fuzzes
 * register and login bodies; this file fuzzes the rest: methods, paths, cookies, headers,
 * credentials). Properties:
 * 1. no credential is accepted that was not issued: mutated session tokens, access tokens and
 *    refresh tokens (bit flips, truncation, re-encoding, swapped or spliced segments) all fail;
 * 2. a request with a defect (no or wrong CSRF token, a hostile origin, a mutated credential,
 *    a wrong password) changes no user, session or password, whatever it asks for;
 * 3. whatever arrives, never a 5xx, and every error is `{error, message}`.
 * `npm test` runs a few hundred cases (a few seconds); `npm run fuzz` runs FUZZ_RUNS of each.
 */

// ---------------------------------------------------------------------------------------------
// Generators

/** What a header can carry on the wire: any text as UTF-8 bytes read as latin1, no controls. */
const headerSafe = (text: string) =>
  [...Buffer.from(text, 'utf8').toString('latin1')]
    .filter((c) => c === '\t' || (c >= ' ' && c !== '\x7f'))
    .join('');

const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '=',
    ';',
    '"',
    '%',
    '%00',
    '%E0%A4%A',
    '\u202e',
    '\u0000',
    '😀',
    'null',
    'undefined',
  ),
);

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A mutation of a `.`-separated token: every way a real credential gets damaged or forged. */
function mutated(original: string, foreign: string): fc.Arbitrary<string> {
  const segments = original.split('.');
  const index = fc.nat({ max: Math.max(0, original.length - 1) });
  const segmentIndex = fc.nat({ max: segments.length - 1 });
  const withSegment = (i: number, value: string) => segments.map((s, j) => (j === i ? value : s)).join('.');
  return fc.oneof(
    // A bit flip in the decoded bytes of one segment, re-encoded.
    fc.tuple(segmentIndex, fc.nat(), fc.nat({ max: 7 })).map(([i, at, bit]) => {
      const bytes = Buffer.from(segments[i] as string, 'base64url');
      if (bytes.length === 0) return `${original}A`;
      const position = at % bytes.length;
      bytes[position] = (bytes[position] as number) ^ (1 << bit);
      return withSegment(i, bytes.toString('base64url'));
    }),
    // One character replaced by another base64url character (the last one may hit pad bits).
    fc
      .tuple(index, fc.constantFrom(...B64URL))
      .map(([i, c]) => `${original.slice(0, i)}${c}${original.slice(i + 1)}`),
    // Truncated, extended, a character inserted.
    index.map((i) => original.slice(0, i)),
    fc
      .string({ unit: fc.constantFrom(...B64URL, '.', '=', '+', '/'), minLength: 1, maxLength: 8 })
      .map((s) => `${original}${s}`),
    fc.tuple(index, anyText).map(([i, s]) => `${original.slice(0, i)}${s || 'x'}${original.slice(i)}`),
    // Re-encoded: standard base64 with padding, percent-encoding, case changes.
    segmentIndex.map((i) =>
      withSegment(i, Buffer.from(segments[i] as string, 'base64url').toString('base64')),
    ),
    segmentIndex.map((i) => withSegment(i, `${segments[i]}=`)),
    fc.constant(original.toUpperCase()),
    fc.constant(original.toLowerCase()),
    fc.constant(encodeURIComponent(original).replace(/\./g, '%2E')),
    // Segments swapped, dropped, duplicated, reversed.
    fc.tuple(segmentIndex, segmentIndex).map(([i, j]) => {
      const copy = [...segments];
      [copy[i], copy[j]] = [copy[j] as string, copy[i] as string];
      return copy.join('.');
    }),
    segmentIndex.map((i) => segments.filter((_, j) => j !== i).join('.')),
    segmentIndex.map((i) => [...segments.slice(0, i + 1), ...segments.slice(i)].join('.')),
    fc.constant([...segments].reverse().join('.')),
    // Spliced with another real credential of the same kind: one segment from each.
    segmentIndex.map((i) => withSegment(i, foreign.split('.')[i] ?? '')),
  );
}

// ---------------------------------------------------------------------------------------------
// Helpers

function expectWellFormed(response: LightMyRequestResponse, method = 'GET') {
  const context = `${response.statusCode} ${response.body.slice(0, 300)}`;
  expect(response.statusCode, context).toBeLessThan(500);
  if (response.statusCode >= 400 && method !== 'HEAD') {
    const body = response.json();
    expect(Object.keys(body).sort(), context).toEqual(['error', 'message']);
    expect(body.error, context).toMatch(/^[a-z][a-z_]*$/);
    expect(body.message, context).not.toMatch(/\n\s+at |FST_|SQLITE|Error:/);
  }
}

interface Snapshot {
  users: number;
  sessions: string[];
  passwordHash: string | undefined;
}

async function snapshot(server: TestServer, userId: string): Promise<Snapshot> {
  const { accounts, sessions } = server.tessera;
  return {
    users: (await accounts.list()).length,
    sessions: (await sessions.listOfUser(userId)).map((s) => s.id).sort(),
    passwordHash: (await accounts.findById(userId))?.passwordHash,
  };
}

/** Percent-encoding; a lone surrogate becomes the (invalid UTF-8) bytes a hostile client would send. */
const uriEncode = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
};

const cookieHeader = (pairs: Array<[string, string]>) => pairs.map(([n, v]) => `${n}=${v}`).join('; ');

// ---------------------------------------------------------------------------------------------
// Session mode

describe('session mode', () => {
  let server: TestServer;
  let victim: { email: string; id: string; token: string; other: string; bearer: string };
  let stranger: string;

  beforeAll(async () => {
    server = await startTessera();
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const login = (transport: 'cookie' | 'bearer') =>
      post(server.app, '/auth/login', { email, password: PASSWORD, transport });
    const first = await login('cookie');
    const token = first.cookies.find((c) => c.name === SESSION_COOKIE)?.value as string;
    const other = (await login('cookie')).cookies.find((c) => c.name === SESSION_COOKIE)?.value as string;
    const bearer = (await login('bearer')).json().token as string;
    victim = { email, id: first.json().user.id, token, other, bearer };
    const strangerEmail = newEmail();
    await post(server.app, '/auth/register', { email: strangerEmail, password: PASSWORD });
    stranger = (
      await post(server.app, '/auth/login', { email: strangerEmail, password: PASSWORD, transport: 'bearer' })
    ).json().token;
  });
  afterAll(() => server.close());

  const whoAmI = (headers: Record<string, string>) =>
    server.app.inject({ method: 'GET', url: '/auth/session', headers });

  it('property: a mutated session token is never accepted, by cookie or bearer', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutated(victim.token, stranger), fc.boolean(), async (forged, asCookie) => {
        const value = headerSafe(forged);
        const headers: Record<string, string> = asCookie
          ? { cookie: `${SESSION_COOKIE}=${value}` }
          : { authorization: `Bearer ${value}` };
        // What the server actually reads: a cookie is percent-decoded and trimmed by the parser.
        const presented = asCookie ? server.app.parseCookie(headers.cookie as string)[SESSION_COOKIE] : value;
        const response = await whoAmI(headers);
        expectWellFormed(response);
        if (presented === victim.token) return; // the same credential, differently spelled
        expect(response.statusCode, `${forged} was accepted`).toBe(401);
        refused++;
      }),
      { numRuns: fuzzRuns(500) },
    );
    expect(refused).toBeGreaterThan(0);
    expect((await whoAmI({ cookie: `${SESSION_COOKIE}=${victim.token}` })).statusCode).toBe(200);
  });

  it('property: a request with a defect changes no user, session or password', async () => {
    const before = await snapshot(server, victim.id);
    const [otherId] = victim.other.split('.');
    const target = fc.constantFrom(
      { method: 'POST', url: '/auth/logout-all' },
      { method: 'POST', url: '/auth/logout' },
      {
        method: 'POST',
        url: '/auth/password',
        payload: { currentPassword: PASSWORD, newPassword: 'hijacked passphrase!' },
      },
      { method: 'DELETE', url: `/auth/sessions/${otherId}` },
      { method: 'POST', url: '/auth/register', payload: { email: victim.email, password: PASSWORD } },
      { method: 'PUT', url: `/admin/api/users/${victim.id}/roles`, payload: { roles: ['admin'] } },
      { method: 'POST', url: `/admin/api/users/${victim.id}/lock`, payload: { reason: 'fuzz' } },
    );
    const defect = fc.oneof(
      fc.constant({ kind: 'no csrf token' }),
      fc.constant({ kind: 'another login csrf token', header: csrfFor(victim.other)[CSRF_HEADER] }),
      anyText.map((header) => ({ kind: 'garbage csrf token', header: headerSafe(header) })),
      fc
        .constantFrom('https://evil.test', 'null', 'https://app.example.com.evil.test')
        .map((origin) => ({ kind: 'hostile origin', origin })),
      mutated(victim.token, stranger).map((token) => ({ kind: 'mutated cookie', token: headerSafe(token) })),
      mutated(victim.bearer, stranger).map((token) => ({ kind: 'mutated bearer', token: headerSafe(token) })),
    );
    await fc.assert(
      fc.asyncProperty(target, defect, async (request, d) => {
        const headers: Record<string, string> = {
          cookie: `${SESSION_COOKIE}=${victim.token}`,
          ...csrfFor(victim.token),
        };
        if (d.kind === 'no csrf token') delete headers[CSRF_HEADER];
        if ('header' in d) headers[CSRF_HEADER] = d.header as string;
        if ('origin' in d) Object.assign(headers, { origin: d.origin, 'sec-fetch-site': 'cross-site' });
        if (d.kind === 'mutated cookie') {
          const token = (d as { token: string }).token;
          fc.pre(server.app.parseCookie(`${SESSION_COOKIE}=${token}`)[SESSION_COOKIE] !== victim.token);
          headers.cookie = `${SESSION_COOKIE}=${token}`;
          Object.assign(headers, csrfFor(token));
        }
        if (d.kind === 'mutated bearer') {
          const token = (d as { token: string }).token;
          fc.pre(token !== victim.bearer);
          delete headers.cookie;
          headers.authorization = `Bearer ${token}`;
        }
        const response = await server.app.inject({ ...request, headers } as InjectOptions);
        expectWellFormed(response);
        if (response.statusCode < 400) expect(request.url, `${d.kind} succeeded`).toBe('/auth/logout');
        expect(await snapshot(server, victim.id)).toEqual(before);
      }),
      { numRuns: fuzzRuns(200) },
    );
  });

  it('property: any method, path, headers, cookies and body: never a 5xx, always the error shape', async () => {
    // A throwaway admin, so the admin API's handlers are reached too (and may log it out).
    const email = newEmail();
    const registered = await post(server.app, '/auth/register', { email, password: PASSWORD });
    await server.tessera.stores.users.setUserRoles(registered.json().user.id, ['admin'], server.clock.now());
    // An admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
    const login = await loginWithSecondFactor(server.app, { email, password: PASSWORD });
    const token = login.cookies.find((c) => c.name === SESSION_COOKIE)?.value as string;
    await fuzzEverything(server.app, {
      cookieNames: [SESSION_COOKIE, CSRF_COOKIE],
      tokens: [token, victim.token],
      csrf: csrfFor(token)[CSRF_HEADER] as string,
      email,
      runs: fuzzRuns(400),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// jwt mode

describe('jwt mode', () => {
  let server: TestServer;
  let victim: {
    email: string;
    id: string;
    sid: string;
    at: string;
    rt: string;
    cookieAt: string;
    csrf: string;
  };
  let stranger: { at: string; rt: string };

  async function bearerLogin(email: string) {
    const response = await post(server.app, '/auth/login', {
      email,
      password: PASSWORD,
      transport: 'bearer',
    });
    return response.json() as {
      accessToken: string;
      refreshToken: string;
      user: { id: string };
      session: { id: string };
    };
  }

  beforeAll(async () => {
    server = await startTessera({ env: { TESSERA_MODE: 'jwt' } });
    const email = newEmail();
    await post(server.app, '/auth/register', { email, password: PASSWORD });
    const pair = await bearerLogin(email);
    const browser = await post(server.app, '/auth/login', { email, password: PASSWORD });
    victim = {
      email,
      id: pair.user.id,
      sid: pair.session.id,
      at: pair.accessToken,
      rt: pair.refreshToken,
      cookieAt: browser.cookies.find((c) => c.name === ACCESS_TOKEN_COOKIE)?.value as string,
      csrf: browser.cookies.find((c) => c.name === CSRF_COOKIE)?.value as string,
    };
    const strangerEmail = newEmail();
    await post(server.app, '/auth/register', { email: strangerEmail, password: PASSWORD });
    const other = await bearerLogin(strangerEmail);
    stranger = { at: other.accessToken, rt: other.refreshToken };
  });
  afterAll(() => server.close());

  it('property: a mutated access token is never accepted, by cookie or bearer', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutated(victim.at, stranger.at), fc.boolean(), async (forged, asCookie) => {
        const value = headerSafe(forged);
        const headers: Record<string, string> = asCookie
          ? { cookie: `${ACCESS_TOKEN_COOKIE}=${value}` }
          : { authorization: `Bearer ${value}` };
        const presented = asCookie
          ? server.app.parseCookie(headers.cookie as string)[ACCESS_TOKEN_COOKIE]
          : value;
        const response = await server.app.inject({ method: 'GET', url: '/auth/session', headers });
        expectWellFormed(response);
        if (presented === victim.at) return;
        expect(response.statusCode, `${forged} was accepted`).toBe(401);
        expect(response.json().error).toMatch(/^(token_|unauthenticated)/);
        refused++;
      }),
      { numRuns: fuzzRuns(500) },
    );
    expect(refused).toBeGreaterThan(0);
  });

  it('property: a mutated refresh token is never accepted and retires nothing; the real one still rotates', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(victim.rt, stranger.rt), fc.boolean(), async (forged, asCookie) => {
        const value = headerSafe(forged);
        if (asCookie)
          fc.pre(
            server.app.parseCookie(`${REFRESH_TOKEN_COOKIE}=${value}`)[REFRESH_TOKEN_COOKIE] !== victim.rt,
          );
        else fc.pre(value !== victim.rt);
        const response = asCookie
          ? await server.app.inject({
              method: 'POST',
              url: '/auth/refresh',
              headers: { cookie: `${REFRESH_TOKEN_COOKIE}=${value}`, [CSRF_HEADER]: victim.csrf },
            })
          : await post(server.app, '/auth/refresh', { refreshToken: value });
        expectWellFormed(response, 'POST');
        expect([400, 401, 403], response.body).toContain(response.statusCode);
        expect(response.cookies.find((c) => c.name === ACCESS_TOKEN_COOKIE && c.value)).toBeUndefined();
      }),
      { numRuns: fuzzRuns(300) },
    );
    // Nothing was retired or revoked by all that: the first use of the real token is a normal rotation.
    const real = await post(server.app, '/auth/refresh', { refreshToken: victim.rt });
    expect(real.statusCode, real.body).toBe(200);
    victim.rt = real.json().refreshToken;
  });

  it('property: a request with a defect changes no user, login family or password', async () => {
    const before = await snapshot(server, victim.id);
    const target = fc.constantFrom(
      { method: 'POST', url: '/auth/logout-all' },
      { method: 'POST', url: '/auth/logout' },
      {
        method: 'POST',
        url: '/auth/password',
        payload: { currentPassword: PASSWORD, newPassword: 'hijacked passphrase!' },
      },
      { method: 'DELETE', url: `/auth/sessions/${victim.sid}` },
      { method: 'POST', url: '/auth/refresh' },
    );
    const defect = fc.oneof(
      fc.constant({ kind: 'no csrf token' }),
      anyText.map((header) => ({ kind: 'garbage csrf token', header: headerSafe(header) })),
      fc.constant({ kind: 'hostile origin', origin: 'https://evil.test' }),
      mutated(victim.cookieAt, stranger.at).map((token) => ({
        kind: 'mutated access cookie',
        token: headerSafe(token),
      })),
      mutated(victim.at, stranger.at).map((token) => ({ kind: 'mutated bearer', token: headerSafe(token) })),
    );
    await fc.assert(
      fc.asyncProperty(target, defect, async (request, d) => {
        const headers: Record<string, string> = {
          cookie: cookieHeader([
            [ACCESS_TOKEN_COOKIE, victim.cookieAt],
            [REFRESH_TOKEN_COOKIE, victim.rt],
          ]),
          [CSRF_HEADER]: victim.csrf,
        };
        if (d.kind === 'no csrf token') delete headers[CSRF_HEADER];
        if ('header' in d) {
          fc.pre(d.header !== victim.csrf);
          headers[CSRF_HEADER] = d.header as string;
        }
        if ('origin' in d) Object.assign(headers, { origin: d.origin, 'sec-fetch-site': 'cross-site' });
        if (d.kind === 'mutated access cookie') {
          const token = (d as { token: string }).token;
          fc.pre(request.url !== '/auth/refresh'); // the refresh cookie, not the access one, counts there
          fc.pre(
            server.app.parseCookie(`${ACCESS_TOKEN_COOKIE}=${token}`)[ACCESS_TOKEN_COOKIE] !==
              victim.cookieAt,
          );
          headers.cookie = `${ACCESS_TOKEN_COOKIE}=${token}`;
          Object.assign(headers, csrfFor(token));
        }
        if (d.kind === 'mutated bearer') {
          const token = (d as { token: string }).token;
          fc.pre(request.url !== '/auth/refresh' && token !== victim.at);
          delete headers.cookie;
          headers.authorization = `Bearer ${token}`;
        }
        const response = await server.app.inject({ ...request, headers } as InjectOptions);
        expectWellFormed(response, request.method);
        if (response.statusCode < 400) expect(request.url, `${d.kind} succeeded`).toBe('/auth/logout');
        expect(await snapshot(server, victim.id)).toEqual(before);
      }),
      { numRuns: fuzzRuns(200) },
    );
    // The victim's refresh token was never rotated by any of it.
    expect((await post(server.app, '/auth/refresh', { refreshToken: victim.rt })).statusCode).toBe(200);
  });

  it('property: any method, path, headers, cookies and body: never a 5xx, always the error shape', async () => {
    const email = newEmail();
    const registered = await post(server.app, '/auth/register', { email, password: PASSWORD });
    await server.tessera.stores.users.setUserRoles(registered.json().user.id, ['admin'], server.clock.now());
    // An admin enrols an authenticator app at first login (TESSERA_MFA_REQUIRED_ROLES).
    const login = await loginWithSecondFactor(server.app, { email, password: PASSWORD });
    const at = login.cookies.find((c) => c.name === ACCESS_TOKEN_COOKIE)?.value as string;
    const rt = login.cookies.find((c) => c.name === REFRESH_TOKEN_COOKIE)?.value as string;
    await fuzzEverything(server.app, {
      cookieNames: [ACCESS_TOKEN_COOKIE, REFRESH_TOKEN_COOKIE, CSRF_COOKIE, SESSION_COOKIE],
      tokens: [at, rt, victim.at],
      csrf: login.cookies.find((c) => c.name === CSRF_COOKIE)?.value as string,
      email,
      runs: fuzzRuns(400),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Everything at once

const PATHS = [
  '/healthz',
  '/auth/register',
  '/auth/login',
  '/auth/mfa/verify',
  '/auth/mfa/totp',
  '/auth/mfa/totp/confirm',
  '/auth/mfa/recovery-codes',
  '/auth/mfa',
  '/auth/reauthenticate',
  '/admin/api/users/x/mfa/reset',
  '/auth/session',
  '/auth/csrf',
  '/auth/refresh',
  '/auth/logout',
  '/auth/logout-all',
  '/auth/password',
  '/auth/sessions',
  '/auth/sessions/x',
  '/.well-known/jwks.json',
  '/admin',
  '/admin/api/users',
  '/admin/api/sessions',
  '/admin/api/audit',
  '/admin/api/keys',
  '/admin/api/users/x/lock',
  '/admin/api/users/x/roles',
  '/admin/api/logout-everyone',
];

async function fuzzEverything(
  app: FastifyInstance,
  options: { cookieNames: string[]; tokens: string[]; csrf: string; email: string; runs: number },
) {
  const token = fc.oneof(
    fc.constantFrom(...options.tokens),
    ...options.tokens.map((t) => mutated(t, options.tokens[0] as string)),
    anyText,
    fc.string({ minLength: 2000, maxLength: 6000 }),
  );
  const cookiePart = fc.oneof(
    fc.tuple(fc.constantFrom(...options.cookieNames), token).map(([n, v]) => `${n}=${v}`),
    fc.tuple(anyText, anyText).map(([n, v]) => `${n}=${v}`),
    anyText,
  );
  const cookie = fc
    .tuple(fc.array(cookiePart, { maxLength: 6 }), fc.constantFrom('; ', ';', ', ', ' ; ', ''))
    .map(([parts, separator]) => parts.join(separator));
  const headers = fc.record(
    {
      cookie,
      authorization: fc.oneof(
        token.map((t) => `Bearer ${t}`),
        anyText,
      ),
      [CSRF_HEADER]: fc.oneof(fc.constant(options.csrf), anyText),
      origin: fc.oneof(fc.constantFrom('https://evil.test', 'null', 'http://localhost:80'), anyText),
      'sec-fetch-site': fc.oneof(fc.constantFrom('same-origin', 'cross-site', 'same-site', 'none'), anyText),
      'content-type': fc.oneof(
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
        ),
        anyText,
      ),
      'x-forwarded-for': anyText,
      'user-agent': fc.oneof(anyText, fc.string({ minLength: 1000, maxLength: 3000 })),
    },
    { requiredKeys: [] },
  );
  const jsonBody = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          'email',
          'password',
          'currentPassword',
          'newPassword',
          'refreshToken',
          'roles',
          'reason',
          'transport',
          '__proto__',
        ),
        anyText,
      ),
      fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        anyText,
        token,
        fc.constant(PASSWORD),
        fc.constant(options.email),
      ),
      { maxKeys: 4 },
    ),
  );
  const body = fc.option(
    fc.oneof(
      jsonBody.map((v) => JSON.stringify(v) ?? 'null'),
      anyText,
      fc.string({ minLength: 10_000, maxLength: 20_000 }),
      fc.integer({ min: 1, max: 40 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
    ),
    { nil: undefined },
  );
  const path = fc.oneof(
    { arbitrary: fc.constantFrom(...PATHS), weight: 4 },
    {
      arbitrary: fc.tuple(fc.constantFrom(...PATHS), anyText).map(([p, s]) => `${p}/${uriEncode(s)}`),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fc.constantFrom(...PATHS), anyText)
        .map(([p, s]) => `${p}?${uriEncode(s)}=${uriEncode(s)}`),
      weight: 1,
    },
    {
      arbitrary: fc.constantFrom(
        '/%',
        '/%E0%A4%A',
        '//',
        '/auth/sessions/%00',
        `/auth/sessions/${'a'.repeat(300)}`,
      ),
      weight: 1,
    },
  );
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD');

  await fc.assert(
    fc.asyncProperty(method, path, headers, body, async (m, url, h, payload) => {
      const safe = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, headerSafe(v as string)]));
      const response = await app.inject({
        method: m as 'GET',
        url,
        headers: safe,
        ...(payload === undefined || m === 'GET' || m === 'HEAD' ? {} : { payload }),
      });
      expectWellFormed(response, m);
    }),
    { numRuns: options.runs },
  );
}
