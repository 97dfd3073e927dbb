import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../../src/core/errors.js';
import { ACCESS_TOKEN_COOKIE, SESSION_COOKIE } from '../../../src/http/credentials.js';
import {
  cspNonce,
  htmlContentSecurityPolicy,
  JSON_CONTENT_SECURITY_POLICY,
  sendHtml,
} from '../../../src/http/plugins/security-headers.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../../helpers.js';

/** Security headers on every answer; strict CSP on pages; HSTS only over HTTPS; SameSite. */

let server: TestServer;
beforeAll(async () => {
  server = await startTessera({ env: { TESSERA_TRUSTED_PROXIES: '10.0.0.1' } });
  server.app.get('/test/page', async (_request, reply) => reply.type('text/html').send('<p>hi</p>'));
  server.app.get('/test/nonce-page', async (_request, reply) => {
    const nonce = cspNonce();
    return sendHtml(reply, `<script nonce="${nonce}">1</script>`, { nonce });
  });
  // What the password-hashing pool throws when its queue is full.
  server.app.get('/test/busy', async () => {
    throw new AuthError('busy', 'Too many password checks are waiting; try again shortly.');
  });
});
afterAll(() => server.close());

/** Directive name → values, as a browser parses a policy. */
const directives = (policy: string) =>
  new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values]),
  );

function expectBaseline(response: LightMyRequestResponse) {
  expect(response.headers['x-frame-options']).toBe('DENY');
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['referrer-policy']).toBe('no-referrer');
  expect(response.headers['cache-control']).toBe('no-store');
  const csp = directives(String(response.headers['content-security-policy']));
  expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
  for (const values of csp.values()) {
    expect(values).not.toContain("'unsafe-inline'");
    expect(values).not.toContain("'unsafe-eval'");
    expect(values).not.toContain('*');
  }
}

describe('every answer', () => {
  it('JSON, success and errors alike: nosniff, no-store, DENY framing, no Referer, a CSP that loads nothing', async () => {
    const answers = [
      await server.app.inject({ method: 'GET', url: '/healthz' }),
      await server.app.inject({ method: 'GET', url: '/auth/session' }),
      await server.app.inject({ method: 'GET', url: '/no/such/route' }),
      await post(server.app, '/auth/login', '{', {}),
      await post(server.app, '/auth/login', {}, { origin: 'https://evil.test' }),
    ];
    for (const response of answers) {
      expectBaseline(response);
      expect(response.headers['content-security-policy']).toBe(JSON_CONTENT_SECURITY_POLICY);
      expect(directives(JSON_CONTENT_SECURITY_POLICY).get('default-src')).toEqual(["'none'"]);
    }
  });
});

describe('overload', () => {
  it('a 503 busy answer says when to retry, with the usual headers and body shape', async () => {
    const busy = await server.app.inject({ method: 'GET', url: '/test/busy' });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expectBaseline(busy);
    expect(busy.json()).toEqual({ error: 'busy', message: expect.any(String) });
  });
});

describe('HTML pages', () => {
  it('any text/html answer gets the strict page policy without asking', async () => {
    const page = await server.app.inject({ method: 'GET', url: '/test/page' });
    expectBaseline(page);
    expect(page.headers['content-security-policy']).toBe(htmlContentSecurityPolicy());
    const csp = directives(String(page.headers['content-security-policy']));
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'self'"]);
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
  });

  it('sendHtml with a nonce allows exactly that nonce, fresh per response', async () => {
    const first = await server.app.inject({ method: 'GET', url: '/test/nonce-page' });
    const second = await server.app.inject({ method: 'GET', url: '/test/nonce-page' });
    const nonceOf = (r: LightMyRequestResponse) => /nonce="([^"]+)"/.exec(r.body)?.[1];
    expect(nonceOf(first)).not.toBe(nonceOf(second));
    expect(directives(String(first.headers['content-security-policy'])).get('script-src')).toEqual([
      "'self'",
      `'nonce-${nonceOf(first)}'`,
    ]);
    expectBaseline(first);
  });

  it('the admin console page (if present) is served under the page policy', async () => {
    const admin = await server.app.inject({ method: 'GET', url: '/admin' });
    if (admin.statusCode === 404) return;
    expect(admin.headers['content-type']).toMatch(/^text\/html/);
    expectBaseline(admin);
    expect(directives(String(admin.headers['content-security-policy'])).get('script-src')).not.toContain(
      "'unsafe-inline'",
    );
  });
});

describe('HSTS', () => {
  const health = (remoteAddress: string, headers: Record<string, string> = {}) =>
    server.app.inject({ method: 'GET', url: '/healthz', remoteAddress, headers });

  it('is sent behind a trusted TLS proxy (X-Forwarded-Proto: https) and not over plain HTTP', async () => {
    const proxied = await health('10.0.0.1', { 'x-forwarded-proto': 'https' });
    expect(proxied.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect((await health('10.0.0.1')).headers['strict-transport-security']).toBeUndefined();
    expect((await health('127.0.0.1')).headers['strict-transport-security']).toBeUndefined();
  });

  it('is not sent when an untrusted client claims X-Forwarded-Proto: https', async () => {
    const spoofed = await health('203.0.113.5', { 'x-forwarded-proto': 'https' });
    expect(spoofed.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('SameSite', () => {
  const loginCookie = async (env: Record<string, string>, name: string) => {
    const local = await startTessera({ env });
    const email = newEmail();
    await post(local.app, '/auth/register', { email, password: PASSWORD });
    const login = await post(local.app, '/auth/login', { email, password: PASSWORD });
    await local.close();
    return ([login.headers['set-cookie']].flat() as string[]).find((h) => h.startsWith(`${name}=`));
  };

  it('Lax by default, Strict with TESSERA_COOKIE_SAMESITE=strict, in session and jwt modes', async () => {
    expect(await loginCookie({}, SESSION_COOKIE)).toMatch(/;\s*SameSite=Lax/i);
    expect(await loginCookie({ TESSERA_COOKIE_SAMESITE: 'strict' }, SESSION_COOKIE)).toMatch(
      /;\s*SameSite=Strict/i,
    );
    expect(await loginCookie({ TESSERA_MODE: 'jwt' }, ACCESS_TOKEN_COOKIE)).toMatch(/;\s*SameSite=Lax/i);
    expect(
      await loginCookie({ TESSERA_MODE: 'jwt', TESSERA_COOKIE_SAMESITE: 'strict' }, ACCESS_TOKEN_COOKIE),
    ).toMatch(/;\s*SameSite=Strict/i);
  });
});
