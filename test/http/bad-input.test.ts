import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/http/credentials.js';
import {
  csrfFor,
  fuzzRuns,
  newEmail,
  PASSWORD,
  post,
  registerAndLogin,
  startTessera,
  type TestServer,
  withSession,
} from '../helpers.js';

/**
 * Strict at the edge: whatever arrives, every route answers with a 4xx and a
 * `{error, message}` body carrying a stable code; never a 5xx, never a stack trace.
 * One server for the file; every password hash it costs is counted in a comment.
 */

type Method = 'GET' | 'POST' | 'DELETE';
interface Route {
  method: Method;
  url: string;
  /** Needs a live session (answers 401 `unauthenticated` without one). */
  authenticated: boolean;
}

const route = (method: Method, url: string, authenticated: boolean): Route => ({
  method,
  url,
  authenticated,
});
const REGISTER = route('POST', '/auth/register', false);
const LOGIN = route('POST', '/auth/login', false);
const LOGOUT = route('POST', '/auth/logout', false);
const LOGOUT_ALL = route('POST', '/auth/logout-all', true);
const PASSWORD_CHANGE = route('POST', '/auth/password', true);
const SESSION = route('GET', '/auth/session', true);
const SESSIONS = route('GET', '/auth/sessions', true);
const DELETE_SESSION = route('DELETE', '/auth/sessions/some-session-id', true);
const HEALTHZ = route('GET', '/healthz', false);

/** Routes whose body fastify parses (POST and DELETE); GET bodies are never read. */
const BODY_ROUTES = [REGISTER, LOGIN, LOGOUT, LOGOUT_ALL, PASSWORD_CHANGE, DELETE_SESSION];
const GET_ROUTES = [SESSION, SESSIONS, HEALTHZ];
const ALL_ROUTES = [...BODY_ROUTES, ...GET_ROUTES];
const AUTHENTICATED_ROUTES = ALL_ROUTES.filter((r) => r.authenticated);

const JSON_TYPE = { 'content-type': 'application/json' };

let server: TestServer;
/** A live session of `email` (1 register hash + 1 login verify + the dummy hash at start). */
let token: string;
let email: string;

const prototypeBefore = Object.getOwnPropertyDescriptors(Object.prototype);

beforeAll(async () => {
  server = await startTessera();
  ({ token, email } = await registerAndLogin(server.app));
});

afterAll(async () => {
  await server?.close();
});

function send(r: Route, options: { payload?: string | object; headers?: Record<string, string> } = {}) {
  return server.app.inject({
    method: r.method,
    url: r.url,
    payload: options.payload,
    headers: options.headers,
  });
}

/** A 4xx with exactly `{error, message}`, both non-empty strings, and no internals leaked. */
function expectError(response: LightMyRequestResponse, status: number, code?: string | string[]) {
  const context = `${response.statusCode} ${response.body.slice(0, 300)}`;
  expect(response.statusCode, context).toBe(status);
  expect(response.headers['content-type'], context).toMatch(/^application\/json/);
  const body = response.json();
  expect(Object.keys(body).sort(), context).toEqual(['error', 'message']);
  expect(body.error, context).toMatch(/^[a-z][a-z_]*$/);
  expect(typeof body.message, context).toBe('string');
  expect(body.message.length, context).toBeGreaterThan(0);
  expect(body.message, context).not.toMatch(/\n\s+at |FST_|SQLITE|Error:/);
  if (typeof code === 'string') expect(body.error, context).toBe(code);
  if (Array.isArray(code)) expect(code, context).toContain(body.error);
  return body as { error: string; message: string };
}

/** Never a 5xx; every error answer has the `{error, message}` shape. */
function expectWellFormed(response: LightMyRequestResponse) {
  expect(response.statusCode, response.body.slice(0, 300)).toBeLessThan(500);
  if (response.statusCode >= 400) expectError(response, response.statusCode);
}

function expectPrototypeClean() {
  const now = Object.getOwnPropertyDescriptors(Object.prototype);
  expect(Object.keys(now).sort()).toEqual(Object.keys(prototypeBefore).sort());
  for (const [key, descriptor] of Object.entries(prototypeBefore)) {
    expect(now[key]?.value, key).toBe(descriptor.value);
  }
  const probe: Record<string, unknown> = {};
  expect(probe.polluted).toBeUndefined();
  expect(probe.isAdmin).toBeUndefined();
  expect(Object.keys(probe)).toEqual([]);
}

async function expectSessionAlive() {
  const response = await server.app.inject({
    method: 'GET',
    url: '/auth/session',
    headers: withSession(token),
  });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.json().user.email).toBe(email);
}

describe('malformed JSON', () => {
  const payloads = [
    '{"email":',
    '{',
    '}',
    "{'email':'a@example.com'}",
    '{"email":"a@example.com",}',
    '{"email":"a@example.com" "password":"x"}',
    'undefined',
    'NaN',
    '\u0000',
    '{"email":"\\x41"}',
    '',
    '   ',
  ];

  it('every route that reads a body answers 400 malformed_json, before authentication', async () => {
    for (const r of BODY_ROUTES) {
      for (const payload of payloads) {
        for (const headers of [JSON_TYPE, { ...JSON_TYPE, ...withSession(token) }]) {
          const response = await send(r, { payload, headers });
          expectError(response, 400, 'malformed_json');
        }
      }
    }
    // Parsing failed before any handler ran: logout and logout-all with the live cookie ended nothing.
    await expectSessionAlive();
  });

  it('GET routes ignore any body, malformed or huge: same answer as without one', async () => {
    for (const payload of [payloads[0] as string, 'x'.repeat(1024 * 1024)]) {
      expectError(await send(SESSION, { payload, headers: JSON_TYPE }), 401, 'unauthenticated');
      expectError(await send(SESSIONS, { payload, headers: JSON_TYPE }), 401, 'unauthenticated');
      const withCookie = { ...JSON_TYPE, ...withSession(token) };
      expect((await send(SESSION, { payload, headers: withCookie })).statusCode).toBe(200);
      expect((await send(SESSIONS, { payload, headers: withCookie })).statusCode).toBe(200);
      const health = await send(HEALTHZ, { payload, headers: JSON_TYPE });
      expect(health.statusCode).toBe(200);
      expect(health.json()).toEqual({ status: 'ok', store: 'sqlite' });
    }
  });
});

describe('body shape', () => {
  const WRONG_TYPES: unknown[] = [
    1,
    0,
    -1.5,
    1e308,
    true,
    false,
    null,
    [],
    ['someone@example.com'],
    {},
    { toString: 'x' },
    { $gt: '' },
  ];

  it('a body that is not an object is 400 invalid_request on register, login and password change', async () => {
    for (const payload of ['null', '[]', '[{"email":"a@example.com"}]', '"a@example.com"', '42', 'true']) {
      for (const r of [REGISTER, LOGIN, PASSWORD_CHANGE]) {
        const response = await send(r, { payload, headers: { ...JSON_TYPE, ...withSession(token) } });
        const body = expectError(response, 400, 'invalid_request');
        expect(body.message).toMatch(/body/);
      }
    }
  });

  it('wrong types for each field are 400 invalid_request naming the field', async () => {
    const cases: Array<{ r: Route; valid: Record<string, unknown>; field: string }> = [
      { r: REGISTER, valid: { email: newEmail(), password: PASSWORD }, field: 'email' },
      { r: REGISTER, valid: { email: newEmail(), password: PASSWORD }, field: 'password' },
      { r: LOGIN, valid: { email, password: PASSWORD }, field: 'email' },
      { r: LOGIN, valid: { email, password: PASSWORD }, field: 'password' },
      { r: LOGIN, valid: { email, password: PASSWORD }, field: 'transport' },
      {
        r: PASSWORD_CHANGE,
        valid: { currentPassword: PASSWORD, newPassword: 'x' },
        field: 'currentPassword',
      },
      { r: PASSWORD_CHANGE, valid: { currentPassword: PASSWORD, newPassword: 'x' }, field: 'newPassword' },
    ];
    for (const { r, valid, field } of cases) {
      for (const value of WRONG_TYPES) {
        const response = await send(r, {
          payload: { ...valid, [field]: value },
          headers: withSession(token),
        });
        const body = expectError(response, 400, 'invalid_request');
        expect(body.message).toContain(field);
      }
    }
    // A transport that is a string but not a known one is refused too, case-sensitively.
    for (const transport of ['COOKIE', 'Bearer', 'query', '']) {
      const response = await post(server.app, '/auth/login', { email, password: PASSWORD, transport });
      expect(expectError(response, 400, 'invalid_request').message).toContain('transport');
    }
  });

  it('missing fields are 400 invalid_request naming the missing field', async () => {
    const cases: Array<{ r: Route; payload: object; missing: string }> = [
      { r: REGISTER, payload: { password: PASSWORD }, missing: 'email' },
      { r: REGISTER, payload: { email: newEmail() }, missing: 'password' },
      { r: LOGIN, payload: { password: PASSWORD }, missing: 'email' },
      { r: LOGIN, payload: { email }, missing: 'password' },
      { r: PASSWORD_CHANGE, payload: { newPassword: 'a new passphrase' }, missing: 'currentPassword' },
      { r: PASSWORD_CHANGE, payload: { currentPassword: PASSWORD }, missing: 'newPassword' },
    ];
    for (const { r, payload, missing } of cases) {
      const response = await send(r, { payload, headers: withSession(token) });
      expect(expectError(response, 400, 'invalid_request').message).toContain(missing);
    }
    for (const r of [REGISTER, LOGIN, PASSWORD_CHANGE]) {
      expectError(await send(r, { payload: {}, headers: withSession(token) }), 400, 'invalid_request');
    }
  });

  it('unknown extra fields are refused (400 invalid_request naming them) and nothing is created', async () => {
    const fresh = newEmail();
    const attempts: Array<{ r: Route; payload: object; unknown: string }> = [
      { r: REGISTER, payload: { email: fresh, password: PASSWORD, roles: ['admin'] }, unknown: 'roles' },
      { r: REGISTER, payload: { email: fresh, password: PASSWORD, isAdmin: true }, unknown: 'isAdmin' },
      { r: REGISTER, payload: { Email: fresh, email: fresh, password: PASSWORD }, unknown: 'Email' },
      { r: LOGIN, payload: { email, password: PASSWORD, rememberMe: true }, unknown: 'rememberMe' },
      {
        r: PASSWORD_CHANGE,
        payload: { currentPassword: PASSWORD, newPassword: 'another passphrase', userId: 'someone-else' },
        unknown: 'userId',
      },
    ];
    for (const { r, payload, unknown } of attempts) {
      const response = await send(r, { payload, headers: withSession(token) });
      expect(expectError(response, 400, 'invalid_request').message).toContain(`"${unknown}"`);
      expect(response.headers['set-cookie']).toBeUndefined();
    }
    expect(await server.tessera.accounts.findByEmail(fresh)).toBeUndefined();
    await expectSessionAlive();
  });

  it('semantic rules have their own codes and are checked before any hashing', async () => {
    const usersBefore = (await server.tessera.accounts.list()).length;
    const register = (e: string, password: string) =>
      post(server.app, '/auth/register', { email: e, password });
    for (const bad of [
      'not-an-email',
      'a@b',
      'a b@example.com',
      '@example.com',
      'a@',
      'a@@example.com',
      '',
      '   ',
    ]) {
      expectError(await register(bad, PASSWORD), 400, 'invalid_email');
    }
    // Past the normalised length limit but under the raw cap: the email rule, not the schema, answers.
    expectError(await register(`${'a'.repeat(250)}@example.com`, PASSWORD), 400, 'invalid_email');
    // Past the raw cap: refused by the schema before any normalisation.
    expectError(await register(`${'a'.repeat(400)}@example.com`, PASSWORD), 400, 'invalid_request');

    expectError(await register(newEmail(), 'short'), 400, 'password_too_short');
    // Length counts code points: 7 emoji are 14 UTF-16 units but only 7 characters.
    expectError(await register(newEmail(), '😀'.repeat(7)), 400, 'password_too_short');
    expectError(await register(newEmail(), 'password123'), 400, 'password_too_common');
    expectError(await register(newEmail(), 'PassWord123'), 400, 'password_too_common');
    expectError(await register(newEmail(), 'x'.repeat(1025)), 400, 'password_too_long');
    // 1500 emoji: 3000 UTF-16 units pass the raw cap, 1500 code points break the policy.
    expectError(await register(newEmail(), '😀'.repeat(1500)), 400, 'password_too_long');
    expectError(await register(newEmail(), 'x'.repeat(5000)), 400, 'invalid_request');
    expectError(await register('longname.user@example.com', 'longname.user'), 400, 'password_matches_email');

    // None of those created an account.
    expect(await server.tessera.accounts.list()).toHaveLength(usersBefore);
  });
});

describe('content type', () => {
  const OTHER_TYPES = [
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'multipart/form-data; boundary=xyz',
    'application/xml',
    'application/jsonx',
    'image/png',
  ];

  it('any body that is not JSON is 415 unsupported_media_type on every route that reads one', async () => {
    for (const r of BODY_ROUTES) {
      for (const type of OTHER_TYPES) {
        const response = await send(r, {
          payload: `email=${encodeURIComponent(email)}&password=${encodeURIComponent(PASSWORD)}`,
          headers: { 'content-type': type, ...withSession(token) },
        });
        expectError(response, 415, 'unsupported_media_type');
      }
    }
    await expectSessionAlive();
  });

  it('JSON credentials sent as text/plain (what a cross-site form can send) never register or log in', async () => {
    const fresh = newEmail();
    const asText = (r: Route, payload: object) =>
      send(r, {
        payload: JSON.stringify(payload),
        headers: { 'content-type': 'text/plain', ...withSession(token) },
      });

    // text/plain has no parser at all: the text is never read, let alone taken as JSON.
    const registered = await asText(REGISTER, { email: fresh, password: PASSWORD });
    expectError(registered, 415, 'unsupported_media_type');
    const login = await asText(LOGIN, { email, password: PASSWORD });
    expectError(login, 415, 'unsupported_media_type');
    expect(login.headers['set-cookie']).toBeUndefined();
    const change = await asText(PASSWORD_CHANGE, {
      currentPassword: PASSWORD,
      newPassword: 'hijacked passphrase',
    });
    expectError(change, 415, 'unsupported_media_type');

    expect(await server.tessera.accounts.findByEmail(fresh)).toBeUndefined();
    await expectSessionAlive();
  });
});

describe('size', () => {
  it('a 1 MB body is refused before it is read: 413 as JSON, 415 as a type with no parser', async () => {
    const big = { email: newEmail(), password: 'x'.repeat(1024 * 1024) };
    for (const r of BODY_ROUTES) {
      expectError(
        await send(r, { payload: JSON.stringify(big), headers: { ...JSON_TYPE, ...withSession(token) } }),
        413,
        'payload_too_large',
      );
      expectError(
        await send(r, { payload: 'a'.repeat(1024 * 1024), headers: { 'content-type': 'text/plain' } }),
        415,
        'unsupported_media_type',
      );
    }
    await expectSessionAlive();
  });
});

describe('prototype poisoning', () => {
  const payloads = [
    '{"__proto__":{"polluted":"yes"}}',
    `{"email":"proto@example.com","password":"${PASSWORD}","__proto__":{"isAdmin":true}}`,
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    `{"email":{"__proto__":{"polluted":"yes"}},"password":"${PASSWORD}"}`,
    '{"a":[{"b":{"__proto__":{"polluted":"yes"}}}]}',
    '{"\\u005f_proto__":{"polluted":"yes"}}',
  ];

  it('__proto__ and constructor.prototype keys are 400 malformed_json everywhere and pollute nothing', async () => {
    for (const r of BODY_ROUTES) {
      for (const payload of payloads) {
        const response = await send(r, { payload, headers: { ...JSON_TYPE, ...withSession(token) } });
        expectError(response, 400, 'malformed_json');
      }
    }
    expect(await server.tessera.accounts.findByEmail('proto@example.com')).toBeUndefined();
    expectPrototypeClean();
  });

  it('__proto__ in the query string or the session id is harmless', async () => {
    const query = '?__proto__[polluted]=yes&constructor[prototype][polluted]=yes&__proto__.isAdmin=true';
    const response = await server.app.inject({
      method: 'GET',
      url: `/auth/sessions${query}`,
      headers: withSession(token),
    });
    expect(response.statusCode).toBe(200);
    for (const id of ['__proto__', 'constructor', 'prototype', 'hasOwnProperty']) {
      const deleted = await server.app.inject({
        method: 'DELETE',
        url: `/auth/sessions/${id}`,
        headers: withSession(token),
      });
      expectError(deleted, 404, 'session_not_found');
    }
    expectPrototypeClean();
    await expectSessionAlive();
  });
});

describe('unicode', () => {
  it('emoji and right-to-left text round-trip through register, login and the session (2 hashes)', async () => {
    const unicodeEmail = `😀.\u05e9\u05dc\u05d5\u05dd.${process.pid}@example.com`;
    const password = '🔑 \u0645\u0631\u062d\u0628\u0627 \u202eauthentication 🛡️';
    const registered = await post(server.app, '/auth/register', { email: unicodeEmail, password });
    expect(registered.statusCode, registered.body).toBe(201);
    expect(registered.json().user.email).toBe(unicodeEmail);
    const { token: unicodeToken } = await login(unicodeEmail, password);
    const session = await server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: withSession(unicodeToken),
    });
    expect(session.json().user.email).toBe(unicodeEmail);
  });

  it('a NUL inside a password is part of it, not its end (1 hash, 1 verify)', async () => {
    const nulEmail = newEmail();
    const password = 'before-nul\u0000after-nul';
    expect((await post(server.app, '/auth/register', { email: nulEmail, password })).statusCode).toBe(201);
    expectError(
      await post(server.app, '/auth/login', { email: nulEmail, password: 'before-nul' }),
      401,
      'invalid_credentials',
    );
  });

  it('refuses emails with control, bidi-override or zero-width characters, which would spoof another address', async () => {
    for (const spoof of [
      `a\u0000b.${process.pid}@example.com`,
      `\u202egnp.${process.pid}@example.com`,
      `ad\u200bmin@example.com`,
    ]) {
      expectError(
        await post(server.app, '/auth/register', { email: spoof, password: PASSWORD }),
        400,
        'invalid_email',
      );
    }
  });

  it('NUL, bidi controls and zero-width characters at login fail as bad credentials, not crashes (2 verifies)', async () => {
    expectError(
      await post(server.app, '/auth/login', { email: `\u0000${email}`, password: `${PASSWORD}\u0000` }),
      401,
      'invalid_credentials',
    );
    expectError(
      await post(server.app, '/auth/login', {
        email: `\u202e\u200b${email}\ufeff`,
        password: `\u200b${PASSWORD}`,
      }),
      401,
      'invalid_credentials',
    );
  });

  it('lone surrogates escaped in JSON never cause a 5xx', async () => {
    const payloads = [
      `{"email":"x@example.com","password":"${PASSWORD}","transport":"\\ud800"}`,
      `{"email":"x@example.com","password":"${PASSWORD}","\\udfff":1}`,
      '{"\\ud800\\ud800":"\\udc00"}',
      '"\\ud800"',
      `{"currentPassword":"\\udbff\\udbff\\udbff","newPassword":"x"}`,
    ];
    for (const r of BODY_ROUTES) {
      // Logout reads no field, so a well-formed body with the cookie would rightly end the session.
      const cookie = r === LOGOUT || r === LOGOUT_ALL ? {} : withSession(token);
      for (const payload of payloads) {
        expectWellFormed(await send(r, { payload, headers: { ...JSON_TYPE, ...cookie } }));
      }
    }
    await expectSessionAlive();
  });

  // A lone surrogate would become U+FFFD on its way to argon2 and SQLite, making two
  // different inputs equal: the edge refuses it instead.
  it('refuses lone surrogates in passwords and emails at the edge, creating nothing', async () => {
    const surrogateEmail = newEmail();
    for (const payload of [
      `{"email":"${surrogateEmail}","password":"lone-surrogate-\\ud800"}`,
      `{"email":"\\ud800.${process.pid}@example.com","password":"${PASSWORD}"}`,
    ]) {
      expectError(await send(REGISTER, { payload, headers: JSON_TYPE }), 400, 'invalid_request');
      expectError(await send(LOGIN, { payload, headers: JSON_TYPE }), 400, 'invalid_request');
    }
    expect(await server.tessera.accounts.findByEmail(surrogateEmail)).toBeUndefined();
  });
});

describe('credentials in headers', () => {
  /** Body that would be valid, so only the credential decides. */
  const bodyFor = (r: Route) =>
    r === PASSWORD_CHANGE
      ? { currentPassword: PASSWORD, newPassword: 'never applied passphrase' }
      : undefined;

  const garbageHeaders = () => {
    const [id] = token.split('.');
    const wrongSecret = `${id}.${'A'.repeat(43)}`;
    const cookies = [
      `${SESSION_COOKIE}=`,
      `${SESSION_COOKIE}=garbage`,
      `${SESSION_COOKIE}=%E0%A4%A`,
      `${SESSION_COOKIE}=${wrongSecret}`,
      `${SESSION_COOKIE}=${token}x`,
      `${SESSION_COOKIE}=${token.replace('.', '')}`,
      `${SESSION_COOKIE}=${id}`,
      `${SESSION_COOKIE}=${'a'.repeat(64 * 1024)}`,
      // The token under any other name is not a session cookie: only the __Host- one counts.
      `tessera_session=${token}`,
      `__Secure-tessera_session=${token}`,
      '=;;;=; ;',
      Array.from({ length: 300 }, (_, i) => `junk${i}=${'v'.repeat(20)}`).join('; '),
    ]
      // Each with the anti-CSRF header its id would need, so the credential check itself answers.
      .map((cookie) => ({ cookie, ...csrfFor(cookie) }));
    const authorizations = [
      'Bearer',
      'Bearer ',
      `Bearer  ${token}`,
      `Bearer ${token} extra`,
      `Bearer ${wrongSecret}`,
      `Basic ${Buffer.from(`${email}:${PASSWORD}`).toString('base64')}`,
      `Token ${token}`,
      token,
      `Bearer ${'a'.repeat(64 * 1024)}`,
      `Bearer ${token},Bearer ${token}`,
    ].map((authorization) => ({ authorization }));
    return [...cookies, ...authorizations];
  };

  it('garbage cookies and Authorization headers are 401 unauthenticated on every authenticated route', async () => {
    for (const r of AUTHENTICATED_ROUTES) {
      for (const headers of garbageHeaders()) {
        const response = await send(r, { payload: bodyFor(r), headers });
        expectError(response, 401, 'unauthenticated');
      }
    }
    // A wrong secret for the real session id must not end that session (no denial of service).
    await expectSessionAlive();
  });

  it('logout with a garbage cookie succeeds idempotently, with a garbage Authorization header is 401; either ends nothing; healthz ignores credentials', async () => {
    for (const headers of garbageHeaders()) {
      // A bearer client must learn its logout did nothing (test/http/logout.test.ts).
      if ('authorization' in headers) expectError(await send(LOGOUT, { headers }), 401, 'unauthenticated');
      else expect((await send(LOGOUT, { headers })).statusCode).toBe(204);
      const health = await send(HEALTHZ, { headers });
      expect(health.statusCode).toBe(200);
    }
    await expectSessionAlive();
  });

  it('session ids that are unknown, odd or too long are 404 session_not_found or 400 invalid_request', async () => {
    const remove = (id: string) =>
      server.app.inject({ method: 'DELETE', url: `/auth/sessions/${id}`, headers: withSession(token) });
    for (const id of [
      'nope',
      '%00',
      '%F0%9F%98%80',
      encodeURIComponent("' OR 1=1 --"),
      '..%2F..%2Fhealthz',
    ]) {
      expectError(await remove(id), 404, 'session_not_found');
    }
    expectError(await remove('a'.repeat(65)), 400, 'invalid_request');
    await expectSessionAlive();
  });

  // Router-level errors are raised before any handler; they still answer {error, message}.
  it('router errors (over-long id, bad percent-encoding) still answer {error, message}', async () => {
    for (const id of ['a'.repeat(201), '%E0%A4%A']) {
      const response = await server.app.inject({
        method: 'DELETE',
        url: `/auth/sessions/${id}`,
        headers: withSession(token),
      });
      expectError(response, response.statusCode);
    }
  });
});

describe('fuzz', () => {
  /** Any UTF-16 code unit, lone surrogates included. */
  const codeUnits = fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  });
  const anyString = fc.oneof(fc.string(), codeUnits);
  const key = fc.oneof(
    fc.constantFrom('email', 'password', 'transport', '__proto__', 'constructor', 'prototype'),
    fc.string({ maxLength: 10 }),
  );
  const jsonValue = fc.jsonValue({ maxDepth: 3 });
  const body = fc.oneof(
    { arbitrary: jsonValue, weight: 3 },
    { arbitrary: fc.dictionary(key, fc.oneof(jsonValue, anyString), { maxKeys: 4 }), weight: 3 },
    // Well-shaped bodies reach the account logic; each costs one argon2 hash or verify.
    {
      arbitrary: fc.record({ email: fc.oneof(fc.emailAddress(), anyString), password: anyString }),
      weight: 2,
    },
  );
  /** Raw payloads: serialised values, fast-check's JSON text, and text that is mostly not JSON. */
  const payload = fc.oneof(
    { arbitrary: body.map((value) => JSON.stringify(value)), weight: 6 },
    { arbitrary: fc.json({ maxDepth: 2 }), weight: 1 },
    { arbitrary: anyString, weight: 1 },
  );

  it('arbitrary JSON to register and login: never a 5xx, always the error shape, no pollution', async () => {
    for (const r of [REGISTER, LOGIN]) {
      await fc.assert(
        fc.asyncProperty(payload, async (text) => {
          const response = await send(r, { payload: text, headers: JSON_TYPE });
          expectWellFormed(response);
          if (response.statusCode < 400) {
            expect(response.statusCode).toBe(r === REGISTER ? 201 : 200);
            expect(typeof response.json().user.email).toBe('string');
          }
        }),
        { numRuns: fuzzRuns(40) },
      );
    }
    expectPrototypeClean();
    await expectSessionAlive();
  });
});

async function login(loginEmail: string, password: string) {
  const response = await post(server.app, '/auth/login', {
    email: loginEmail,
    password,
    transport: 'bearer',
  });
  expect(response.statusCode, response.body).toBe(200);
  return { token: response.json().token as string };
}
