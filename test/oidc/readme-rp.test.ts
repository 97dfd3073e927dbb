import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  consentFields,
  type OAuthServer,
  registerClient,
  signIn,
  startOAuthServer,
  submitConsent,
} from '../oauth/harness.js';

/**
 * README's "Sign in with Tessera": the express app block, verbatim, run with node as the
 * relying party of a real Tessera (registered as the README's `tessera clients create` does).
 * A browser signs in through it, sees its page, and a lock in Tessera ends the app's own session.
 */
const START = '// Sign in with Tessera: an express relying party';

function readmeBlock(): string {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const start = readme.indexOf(START);
  expect(start).toBeGreaterThan(0);
  return readme.slice(start, readme.indexOf('\n```', start));
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

let server: OAuthServer;
let app: ChildProcess;
let appUrl = '';

beforeAll(async () => {
  server = await startOAuthServer();
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  const rc = await registerClient(server, {
    name: 'Ledger Lens',
    redirectUris: [`${appUrl}/callback`],
    scopes: ['openid', 'email'],
    audience: 'https://ledger.example',
    oidc: { postLogoutRedirectUris: [`${appUrl}/`], backchannelLogoutUri: `${appUrl}/backchannel-logout` },
  });
  // Inside the repository, so `express`, `jose` and `openid-client` resolve from node_modules.
  const dir = join(import.meta.dirname, '../../test-artifacts/readme-rp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'app.mjs');
  writeFileSync(file, readmeBlock());
  app = spawn(process.execPath, [file], {
    env: {
      PATH: process.env.PATH ?? '',
      TESSERA_ISSUER: server.url,
      CLIENT_ID: rc.client.client_id,
      CLIENT_SECRET: rc.secret as string,
      APP_URL: appUrl,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  app.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the README app did not start: ${stderr}`)), 15_000);
    app.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    app.once('exit', (code) => reject(new Error(`the README app exited with ${code}: ${stderr}`)));
  });
}, 30_000);

afterAll(async () => {
  app?.kill();
  await server?.close();
});

const go = (url: string, cookie: string) =>
  fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });

describe('README: Sign in with Tessera', () => {
  it("signs in through the app, and a lock in Tessera ends the app's own session", async () => {
    const browser = await signIn(server);
    // The app sends the browser to Tessera; the user allows; Tessera sends it back.
    const login = await go(`${appUrl}/login`, '');
    expect(login.status).toBe(302);
    const authorize = login.headers.get('location') as string;
    expect(authorize.startsWith(`${server.url}/oauth/authorize?`)).toBe(true);
    const page = await go(authorize, browser.cookie);
    const back = await submitConsent(server, browser, await consentFields(page), 'approve');
    const callback = await go(back.headers.get('location') as string, '');
    expect(callback.status).toBe(302);
    const appCookie = (callback.headers.get('set-cookie') as string).split(';')[0] as string;
    const home = await go(`${appUrl}/`, appCookie);
    expect(await home.text()).toBe(`Hello ${browser.email}`);

    await server.tessera.control.lockUser(browser.userId, 'card stolen', {
      actorId: null,
      client: { ip: 'test', userAgent: 'test' },
    });
    await server.tessera.events.drain();
    const after = await go(`${appUrl}/`, appCookie);
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toBe('/login');
  });

  it('RP-initiated logout through the app ends the Tessera login and comes back', async () => {
    const browser = await signIn(server);
    const page = await go(
      (await go(`${appUrl}/login`, '')).headers.get('location') as string,
      browser.cookie,
    );
    const back = await submitConsent(server, browser, await consentFields(page), 'approve');
    const callback = await go(back.headers.get('location') as string, '');
    const appCookie = (callback.headers.get('set-cookie') as string).split(';')[0] as string;
    const logout = await go(`${appUrl}/logout`, appCookie);
    const endSession = await go(logout.headers.get('location') as string, browser.cookie);
    expect(endSession.status).toBe(303);
    expect(endSession.headers.get('location')).toBe(`${appUrl}/`);
    const live = await server.tessera.sessions.listOfUser(browser.userId);
    expect(live.filter((s) => s.mode !== 'oauth')).toEqual([]);
    await server.tessera.events.drain();
    expect((await go(`${appUrl}/`, appCookie)).headers.get('location')).toBe('/login');
  });
});
