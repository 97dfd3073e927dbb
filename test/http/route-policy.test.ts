import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError } from '../../src/core/errors.js';
import { SESSION_COOKIE } from '../../src/http/credentials.js';
import { DEFAULT_RATE_LIMITS } from '../../src/http/plugins/rate-limit.js';
import { registerAndLogin, startTessera, type TestServer } from '../helpers.js';

/**
 * The web defences follow what a route declares in its fastify `config` (route-policy.ts), not
 * its path: routes with made-up paths, added after the defences, get exactly the policy they
 * declare. (test/http/defences/ checks the policies of Tessera's own routes.)
 */

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTessera({
    env: { TESSERA_RATE_LIMIT: 'on' },
    app: {
      rateLimits: {
        policy: {
          ...DEFAULT_RATE_LIMITS,
          login: { ...DEFAULT_RATE_LIMITS.login, ip: { ...DEFAULT_RATE_LIMITS.login.ip, free: 2 } },
        },
      },
    },
  });
  const ok = async () => ({ ok: true });
  server.app.post('/test/plain', ok);
  server.app.post('/test/csrf-exempt', { config: { csrfExempt: true } }, ok);
  server.app.post('/test/origin-for-bearer', { config: { originCheckForBearer: true } }, ok);
  server.app.post('/test/limited', { config: { rateLimitAction: 'login' } }, async () => {
    throw new AuthError('invalid_credentials');
  });
  ({ token } = await registerAndLogin(server.app));
});
afterAll(() => server.close());

const send = (url: string, headers: Record<string, string>, remoteAddress = '192.0.2.1') =>
  server.app.inject({ method: 'POST', url, payload: {}, headers, remoteAddress });

describe('route policy from the route config', () => {
  it('csrfExempt: a cookie-authenticated POST needs no anti-CSRF token there, and does elsewhere', async () => {
    const cookie = { cookie: `${SESSION_COOKIE}=${token}` };
    expect((await send('/test/csrf-exempt', cookie)).statusCode).toBe(200);
    const refused = await send('/test/plain', cookie);
    expect([refused.statusCode, refused.json().error]).toEqual([403, 'csrf_token_invalid']);
  });

  it('originCheckForBearer: a cross-site bearer POST is refused there, and let through elsewhere', async () => {
    const crossSiteBearer = { authorization: `Bearer ${token}`, 'sec-fetch-site': 'cross-site' };
    const refused = await send('/test/origin-for-bearer', crossSiteBearer);
    expect([refused.statusCode, refused.json().error]).toEqual([403, 'origin_not_allowed']);
    expect((await send('/test/plain', crossSiteBearer)).statusCode).toBe(200);
    // Same-origin, it passes: the flag adds the Origin check, nothing else.
    expect((await send('/test/origin-for-bearer', { authorization: `Bearer ${token}` })).statusCode).toBe(
      200,
    );
  });

  it('rateLimitAction: failures there count against that action’s limits; an undeclared route is not counted', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send('/test/limited', {}, '192.0.2.77')).statusCode);
    // Two free failures (the policy above), then the backoff answers 429 rate_limited.
    expect(statuses.slice(0, 2)).toEqual([401, 401]);
    expect(statuses.at(-1)).toBe(429);
    for (let i = 0; i < 4; i++) {
      expect((await send('/test/plain', {}, '192.0.2.78')).statusCode).toBe(200);
    }
  });
});
