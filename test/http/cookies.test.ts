import type { LightMyRequestResponse } from 'fastify';
import { type Cookie, CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/http/credentials.js';
import { CSRF_COOKIE, CSRF_HEADER } from '../../src/http/plugins/csrf.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';

/**
 * The session cookie as a standards-following client sees it: tough-cookie with strict
 * prefix checks stands in for the browser, so `__Host-` rules, Secure, HttpOnly, Path,
 * host-only scope and SameSite are judged by an independent implementation.
 */

const ORIGIN = 'https://tessera.test';
const LOGIN_URL = `${ORIGIN}/auth/login`;

const strictJar = () => new CookieJar(undefined, { prefixSecurity: 'strict' });

const setCookiesOf = (response: LightMyRequestResponse): string[] => {
  const header = response.headers['set-cookie'];
  return header === undefined ? [] : Array.isArray(header) ? header : [header];
};

async function store(jar: CookieJar, setCookies: string[], url: string) {
  for (const header of setCookies) await jar.setCookie(header, url);
}

const sessionCookie = (cookies: Cookie[]) => cookies.find((c) => c.key === SESSION_COOKIE);

/** What the page's script reads from document.cookie (http: false) and sends as x-csrf-token. */
async function csrfHeaderFromJar(jar: CookieJar): Promise<Record<string, string>> {
  const cookies = await jar.getCookies(`${ORIGIN}/`, { http: false });
  const csrf = cookies.find((c) => c.key === CSRF_COOKIE);
  return csrf ? { [CSRF_HEADER]: csrf.value } : {};
}

let server: TestServer;
let email: string;

beforeAll(async () => {
  server = await startTessera();
  email = newEmail();
  const registered = await post(server.app, '/auth/register', { email, password: PASSWORD });
  expect(registered.statusCode, registered.body).toBe(201);
});

afterAll(async () => {
  await server?.close();
});

/** Logs in over inject; returns the strict jar holding the response's cookies. */
async function loginIntoJar(): Promise<{ jar: CookieJar; setCookies: string[] }> {
  const response = await post(server.app, '/auth/login', { email, password: PASSWORD });
  expect(response.statusCode, response.body).toBe(200);
  const setCookies = setCookiesOf(response);
  const jar = strictJar();
  await store(jar, setCookies, LOGIN_URL);
  return { jar, setCookies };
}

/** GET /auth/session over inject with whatever the jar sends to that URL. */
async function sessionWithJar(jar: CookieJar) {
  const cookie = await jar.getCookieString(`${ORIGIN}/auth/session`);
  return server.app.inject({ method: 'GET', url: '/auth/session', headers: cookie ? { cookie } : {} });
}

describe('the session cookie in a strict cookie jar', () => {
  it('is stored as a __Host- cookie: Secure, HttpOnly, Path=/, host-only, SameSite=Lax (1 verify)', async () => {
    const { jar, setCookies } = await loginIntoJar();

    const cookie = sessionCookie(await jar.getCookies(`${ORIGIN}/any/path`));
    expect(cookie, setCookies.join('\n')).toBeDefined();
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(cookie?.secure).toBe(true);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.path).toBe('/');
    expect(cookie?.hostOnly).toBe(true);
    expect(cookie?.sameSite).toBe('lax');
    // No Domain attribute on the wire (a Domain would let sibling subdomains read or plant it).
    const raw = setCookies.find((h) => h.startsWith(`${SESSION_COOKIE}=`));
    expect(raw).toBeDefined();
    expect(raw).not.toMatch(/;\s*domain=/i);
    expect(raw).toMatch(/;\s*secure(;|$)/i);
    expect(raw).toMatch(/;\s*httponly(;|$)/i);
    expect(raw).toMatch(/;\s*path=\/(;|$)/i);
    expect(raw).toMatch(/;\s*samesite=lax(;|$)/i);

    // Secure: never sent over plain HTTP.
    expect(sessionCookie(await jar.getCookies('http://tessera.test/'))).toBeUndefined();
    expect(sessionCookie(await jar.getCookies('http://tessera.test/any/path'))).toBeUndefined();
    // Host-only: not sent to subdomains or other hosts.
    expect(sessionCookie(await jar.getCookies('https://api.tessera.test/'))).toBeUndefined();
    expect(sessionCookie(await jar.getCookies('https://evil.test/'))).toBeUndefined();
    // HttpOnly: invisible to page scripts (document.cookie is a non-HTTP API).
    expect(sessionCookie(await jar.getCookies(`${ORIGIN}/`, { http: false }))).toBeUndefined();
    // SameSite=Lax: not attached to cross-site subrequests (fetch, forms POSTed from elsewhere).
    expect(sessionCookie(await jar.getCookies(`${ORIGIN}/`, { sameSiteContext: 'none' }))).toBeUndefined();
    expect(sessionCookie(await jar.getCookies(`${ORIGIN}/`, { sameSiteContext: 'lax' }))).toBeDefined();

    // What the jar sends back is a working session.
    const session = await sessionWithJar(jar);
    expect(session.statusCode, session.body).toBe(200);
    expect(session.json().user.email).toBe(email);
  });

  it('the jar really enforces the __Host- rules: forged variants are rejected, the genuine one survives', async () => {
    const { jar } = await loginIntoJar();
    const genuine = sessionCookie(await jar.getCookies(`${ORIGIN}/`))?.value;
    expect(genuine).toBeDefined();

    const forged = [
      `${SESSION_COOKIE}=forged; Path=/; HttpOnly; SameSite=Lax`, // no Secure
      `${SESSION_COOKIE}=forged; Secure; Path=/; Domain=tessera.test; HttpOnly`, // a Domain
      `${SESSION_COOKIE}=forged; Secure; Path=/auth; HttpOnly`, // not Path=/
    ];
    for (const header of forged) {
      await expect(jar.setCookie(header, `${ORIGIN}/`), header).rejects.toThrow();
    }
    // A plain-HTTP page cannot plant it either, even with every attribute right.
    await expect(
      jar.setCookie(`${SESSION_COOKIE}=forged; Secure; Path=/; HttpOnly`, 'http://tessera.test/'),
    ).rejects.toThrow();
    // Control: the same insecure cookie without the prefix is accepted, so the rejections
    // above come from the prefix rules, not from a jar that refuses everything.
    await jar.setCookie('tessera_session=forged; Path=/; HttpOnly; SameSite=Lax', `${ORIGIN}/`);
    expect((await jar.getCookies(`${ORIGIN}/`)).map((c) => c.key)).toContain('tessera_session');

    expect(sessionCookie(await jar.getCookies(`${ORIGIN}/`))?.value).toBe(genuine);
    // The unprefixed impostor rides along but the server only reads the __Host- cookie.
    expect((await sessionWithJar(jar)).statusCode).toBe(200);
  });

  it("logout's Set-Cookie expires the cookie in the jar, and the old token is dead (1 verify)", async () => {
    const { jar } = await loginIntoJar();
    const token = sessionCookie(await jar.getCookies(`${ORIGIN}/`))?.value as string;
    const cookie = await jar.getCookieString(`${ORIGIN}/auth/logout`);

    const logout = await server.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie, ...(await csrfHeaderFromJar(jar)) },
    });
    expect(logout.statusCode).toBe(204);
    const cleared = setCookiesOf(logout);
    expect(cleared.some((h) => h.startsWith(`${SESSION_COOKIE}=`))).toBe(true);
    // The clearing cookie must itself satisfy __Host- or a strict browser would ignore it.
    await store(jar, cleared, `${ORIGIN}/auth/logout`);

    expect(sessionCookie(await jar.getCookies(`${ORIGIN}/any/path`))).toBeUndefined();
    expect(await jar.getCookieString(`${ORIGIN}/`)).toBe('');
    const replayed = await server.app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
    expect(replayed.statusCode).toBe(401);
  });

  it("logout-all's Set-Cookie expires the cookie too (1 verify)", async () => {
    const { jar } = await loginIntoJar();
    const cookie = await jar.getCookieString(`${ORIGIN}/auth/logout-all`);
    const response = await server.app.inject({
      method: 'POST',
      url: '/auth/logout-all',
      headers: { cookie, ...(await csrfHeaderFromJar(jar)) },
    });
    expect(response.statusCode, response.body).toBe(200);
    await store(jar, setCookiesOf(response), `${ORIGIN}/auth/logout-all`);
    expect(sessionCookie(await jar.getCookies(`${ORIGIN}/`))).toBeUndefined();
  });
});

describe('over real HTTP', () => {
  it('the same flow works through a listening socket and fetch, not only inject (1 verify)', async () => {
    const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const jar = strictJar();
    // The jar plays a browser on https://tessera.test; fetch carries its cookies to the socket.
    const request = async (method: string, path: string, body?: object) => {
      const cookie = await jar.getCookieString(`${ORIGIN}${path}`);
      const response = await fetch(`${address}${path}`, {
        method,
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(method === 'GET' ? {} : await csrfHeaderFromJar(jar)),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const setCookies = response.headers.getSetCookie();
      await store(jar, setCookies, `${ORIGIN}${path}`);
      const text = await response.text();
      return { status: response.status, text, setCookies };
    };

    const login = await request('POST', '/auth/login', { email, password: PASSWORD });
    expect(login.status, login.text).toBe(200);
    expect(login.setCookies.some((h) => h.startsWith(`${SESSION_COOKIE}=`))).toBe(true);
    const cookie = sessionCookie(await jar.getCookies(`${ORIGIN}/any/path`));
    expect(cookie?.secure && cookie.httpOnly && cookie.path === '/' && cookie.hostOnly).toBe(true);
    expect(cookie?.sameSite).toBe('lax');
    expect(sessionCookie(await jar.getCookies('http://tessera.test/'))).toBeUndefined();
    const token = cookie?.value as string;

    const session = await request('GET', '/auth/session');
    expect(session.status, session.text).toBe(200);
    expect(JSON.parse(session.text).user.email).toBe(email);

    const logout = await request('POST', '/auth/logout');
    expect(logout.status).toBe(204);
    expect(sessionCookie(await jar.getCookies(`${ORIGIN}/`))).toBeUndefined();

    const after = await request('GET', '/auth/session');
    expect(after.status).toBe(401);
    expect(JSON.parse(after.text)).toEqual({ error: 'unauthenticated', message: expect.any(String) });
    // Replaying the old token by hand fails too: the session ended on the server, not just in the jar.
    const replayed = await fetch(`${address}/auth/session`, {
      headers: { cookie: `${SESSION_COOKIE}=${token}` },
    });
    expect(replayed.status).toBe(401);
    await replayed.body?.cancel();
  });
});
