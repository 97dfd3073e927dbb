import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createForwarder,
  fastifyForwardToTessera,
  forwardToTessera,
  honoForwardToTessera,
} from '../../src/adapters/forward.js';
import { newEmail, PASSWORD, startTessera, type TestServer } from '../helpers.js';

/**
 * tessera/forward against a real Tessera, in each framework: register, log in with cookies
 * (several Set-Cookie headers must survive), read the session, log out with the anti-CSRF
 * header; the app's own routes are untouched; a client's X-Forwarded-For is replaced by what the
 * app saw; a Tessera that does not answer is a 503 with a code, never a hang or a 500.
 */

type Call = (path: string, init?: RequestInit) => Promise<Response>;
interface Harness {
  call: Call;
  close(): Promise<void>;
}

let tessera: TestServer;
let tesseraUrl: string;
beforeAll(async () => {
  // The app is the proxy in front of Tessera: its X-Forwarded-* are believed.
  tessera = await startTessera({ env: { TESSERA_TRUSTED_PROXIES: 'loopback' } });
  tesseraUrl = await tessera.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => tessera.close());

async function listening(server: import('node:http').Server): Promise<Call> {
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init);
}

const frameworks: Record<string, (url: string) => Promise<Harness>> = {
  async express(url) {
    const app = express();
    app.use(forwardToTessera({ tesseraUrl: url }));
    app.use(express.json());
    app.get('/hello', (_req, res) => res.json({ from: 'app' }));
    const server = app.listen(0, '127.0.0.1');
    const call = await listening(server);
    return { call, close: () => new Promise((resolve) => server.close(() => resolve())) };
  },
  async fastify(url) {
    const app = Fastify();
    await app.register(fastifyForwardToTessera, { tesseraUrl: url });
    app.get('/hello', async () => ({ from: 'app' }));
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    return { call: (path, init) => fetch(`${address}${path}`, init), close: () => app.close() };
  },
  async hono(url) {
    // Hono's own fetch handler, called with real Requests (no @hono/node-server in this repository).
    const app = new Hono();
    app.use(honoForwardToTessera({ tesseraUrl: url }));
    app.get('/hello', (c) => c.json({ from: 'app' }));
    return {
      call: async (path, init) => app.fetch(new Request(`http://app.test${path}`, init)),
      close: async () => {},
    };
  },
};

for (const [name, build] of Object.entries(frameworks)) {
  describe(`tessera/forward in ${name}`, () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await build(tesseraUrl);
    });
    afterAll(() => harness.close());

    it('register, log in with cookies, read the session and log out through the app', async () => {
      const email = newEmail();
      const json = { 'content-type': 'application/json' };
      const spoofed = { ...json, 'x-forwarded-for': '203.0.113.9' };
      const registered = await harness.call('/auth/register', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(registered.status).toBe(201);
      const login = await harness.call('/auth/login', {
        method: 'POST',
        headers: spoofed,
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(login.status).toBe(200);
      const setCookies = login.headers.getSetCookie();
      expect(setCookies.map((cookie) => cookie.split('=')[0]).sort()).toEqual([
        '__Host-tessera_csrf',
        '__Host-tessera_session',
      ]);
      const cookies = setCookies.map((cookie) => cookie.split(';')[0]).join('; ');
      const csrf = /__Host-tessera_csrf=([^;]+)/.exec(cookies)?.[1] as string;

      const session = await harness.call('/auth/session', { headers: { cookie: cookies } });
      expect(session.status).toBe(200);
      expect(((await session.json()) as { user: { email: string } }).user.email).toBe(email);
      if (name !== 'hono') {
        // The login's IP is what the app saw (loopback), not what the client claimed.
        const devices = (await (
          await harness.call('/auth/sessions', { headers: { cookie: cookies } })
        ).json()) as {
          sessions: { ip: string }[];
        };
        expect(devices.sessions.map((device) => device.ip)).not.toContain('203.0.113.9');
        expect(devices.sessions[0]?.ip).toMatch(/^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
      }

      const refused = await harness.call('/auth/logout', { method: 'POST', headers: { cookie: cookies } });
      expect(refused.status).toBe(403);
      const logout = await harness.call('/auth/logout', {
        method: 'POST',
        headers: { cookie: cookies, 'x-csrf-token': decodeURIComponent(csrf) },
      });
      expect(logout.status).toBe(204);
      expect((await harness.call('/auth/session', { headers: { cookie: cookies } })).status).toBe(401);
    });

    it("the app's own routes are the app's; Tessera's JWKS path and 404s come from Tessera", async () => {
      expect(await (await harness.call('/hello')).json()).toEqual({ from: 'app' });
      const missing = await harness.call('/auth/no-such-route');
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: string }).error).toBe('not_found');
    });
  });
}

describe('tessera/forward when Tessera does not answer', () => {
  it('answers 503 tessera_unavailable (with Retry-After) in every framework', async () => {
    // A port nobody listens on: listen, note it, close.
    const probe = Fastify();
    const closedUrl = await probe.listen({ port: 0, host: '127.0.0.1' });
    await probe.close();
    for (const build of Object.values(frameworks)) {
      const harness = await build(closedUrl);
      try {
        const answer = await harness.call('/auth/session');
        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toBe('1');
        expect(((await answer.json()) as { error: string }).error).toBe('tessera_unavailable');
      } finally {
        await harness.close();
      }
    }
  });

  it('refuses a tesseraUrl that is not http(s)', () => {
    expect(() => createForwarder({ tesseraUrl: 'ftp://auth.example' })).toThrow(/http\(s\)/);
  });
});

describe('tessera/forward keeps every request on Tessera', () => {
  it('a protocol-relative or absolute request target never reaches another host', async () => {
    const asked: string[] = [];
    const forwarder = createForwarder({
      tesseraUrl: 'http://tessera.internal:3000',
      fetch: async (input) => {
        asked.push(String(input));
        return new Response('{}', { status: 200 });
      },
    });
    const base = { method: 'GET', headers: {}, ip: '127.0.0.1', protocol: 'http', host: 'app.test' };
    await forwarder.forward({ ...base, url: '//evil.example/auth/session' });
    await forwarder.forward({ ...base, url: '/auth/../../x' });
    const absolute = await forwarder.forward({ ...base, url: 'http://evil.example/auth/session' });
    expect(absolute.status).toBe(400);
    expect(asked.map((url) => new URL(url).host)).toEqual(['tessera.internal:3000', 'tessera.internal:3000']);
  });
});

describe('tessera/forward serves the browser SDK (built dist/)', () => {
  it('serves index.js at /tessera/client.js and the modules it imports (passkeys.js, globals.js, messages.js) beside it', async () => {
    // From dist/: running from the sources there is no built SDK to serve (404).
    const dist = '../../dist/adapters/forward.js';
    const { createForwarder: built } = (await import(dist)) as typeof import('../../src/adapters/forward.js');
    const forwarder = built({ tesseraUrl: 'http://127.0.0.1:9' });
    const get = (url: string) =>
      forwarder.forward({
        method: 'GET',
        url,
        headers: {},
        ip: '127.0.0.1',
        protocol: 'http',
        host: 'app.test',
      });
    for (const [path, marker] of [
      ['/tessera/client.js', /export function createTesseraClient/],
      ['/tessera/passkeys.js', /export async function getPasskeyCredential/],
      ['/tessera/globals.js', /export function readCookie/],
      ['/tessera/messages.js', /export const DEFAULT_MESSAGES/],
      ['/tessera/events.js', /export class StepUpRequiredEvent/],
    ] as const) {
      expect(forwarder.handles(path), path).toBe(true);
      const answer = await get(path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(await answer.text()).toMatch(marker);
    }
    // Nothing else of dist/ is served.
    expect(forwarder.handles('/tessera/index.js')).toBe(false);
    expect(forwarder.handles('/tessera/forward.js')).toBe(false);
  });
});
