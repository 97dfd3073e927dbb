import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { sendHtml } from '../../src/http/plugins/security-headers.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { browserAvailable, launchBrowser } from './browser.js';

/**
 * Passkeys in Debian's Chromium with the Chrome DevTools Protocol's virtual authenticator
 * (WebAuthn.enable, WebAuthn.addVirtualAuthenticator): a real navigator.credentials, real
 * CTAP2 signatures, tessera/client's registerPasskey and signInWithPasskey (the built
 * dist/client, as apps load it). Tessera listens on http://localhost:<port> with that origin and
 * RP id `localhost`; a second server on another port is the phishing site.
 */

const SDK_FILES = ['index.js', 'passkeys.js', 'globals.js', 'messages.js', 'events.js'];
const sdk = (file: string) => readFileSync(new URL(`../../dist/client/${file}`, import.meta.url), 'utf8');
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>passkeys</title></head>
<body><input id="username" autocomplete="username webauthn"></body></html>`;
// The page runs the SDK from its own origin, nothing inline.
const PAGE_CSP = "default-src 'self'";

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, 'localhost', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The test page and the SDK, on Tessera's own origin (as tessera/forward serves them on an app's). */
function servePage(app: FastifyInstance): void {
  app.get('/test/page', async (_request, reply) => sendHtml(reply, PAGE, { csp: PAGE_CSP }));
  for (const file of SDK_FILES) {
    app.get(`/test/sdk/${file}`, async (_request, reply) => reply.type('text/javascript').send(sdk(file)));
  }
}

/** A virtual platform authenticator: resident keys, user verification, presence simulated. */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: string; name: string; message: string };

/**
 * Runs `body` (an async function body over `sdk`, `client`, `arg`) in the page with the SDK
 * module loaded; errors come back as data. A string, so the test runner's transforms never
 * touch the page's own `import()`.
 */
function inPage(page: Page, body: string, arg: unknown = null): Promise<Outcome> {
  return page.evaluate(`(async () => {
    const sdk = await import('/test/sdk/index.js');
    const client = (globalThis.client ??= sdk.createTesseraClient());
    const arg = ${JSON.stringify(arg)};
    try {
      return { ok: true, value: await (async () => { ${body} })() };
    } catch (e) {
      return { ok: false, code: e.code ?? '', name: e.name ?? '', message: e.message ?? '' };
    }
  })()`) as Promise<Outcome>;
}

describe.skipIf(!browserAvailable('the passkey browser tests'))('passkeys in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  for (const mode of ['session', 'jwt', 'hybrid'] as const) {
    it(`${mode} mode: register with registerPasskey, sign in passwordless with signInWithPasskey, remove`, async () => {
      const port = await freePort();
      const origin = `http://localhost:${port}`;
      const server: TestServer = await startTessera({
        env: { TESSERA_MODE: mode, TESSERA_ISSUER: origin },
        runtime: systemRuntime,
      });
      servePage(server.app);
      await server.app.listen({ port, host: 'localhost' });
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${origin}/test/page`);
        const { cdp, authenticatorId } = await virtualAuthenticator(page);
        const email = newEmail();
        await post(server.app, '/auth/register', { email, password: PASSWORD });

        expect(
          await inPage(page, 'return (await client.login(arg.email, arg.password)).user.email', {
            email,
            password: PASSWORD,
          }),
        ).toEqual({ ok: true, value: email });
        const registered = await inPage(page, "return client.registerPasskey('This laptop')");
        expect(registered).toMatchObject({ ok: true, value: { name: 'This laptop' } });
        // The authenticator holds a discoverable credential for localhost, for this user.
        const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
        expect(credentials).toHaveLength(1);
        expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });

        // Out, then in again with the passkey alone: no email, no password.
        await inPage(page, 'await client.logout()');
        expect(await inPage(page, 'return client.currentUser()')).toEqual({ ok: true, value: null });
        const signedIn = await inPage(page, 'return (await client.signInWithPasskey()).user.email');
        expect(signedIn).toEqual({ ok: true, value: email });
        expect(await inPage(page, 'return (await client.currentUser()).email')).toEqual({
          ok: true,
          value: email,
        });
        expect(
          (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0]?.signCount,
        ).toBeGreaterThan(0);

        // Listed; removed (by the SDK's fetch, anti-CSRF header included); then refused.
        const listed = await inPage(
          page,
          "return (await (await client.fetch('/auth/passkeys')).json()).passkeys",
        );
        const [passkey] = (listed as { value: Array<{ id: string; lastUsedAt: string | null }> }).value;
        expect(passkey?.lastUsedAt).not.toBeNull();
        const removed = await inPage(
          page,
          "return (await client.fetch('/auth/passkeys/' + arg, { method: 'DELETE' })).status",
          passkey?.id,
        );
        expect(removed).toEqual({ ok: true, value: 204 });
        await inPage(page, 'await client.logout()');
        // The browser still offers the credential; Tessera no longer knows it.
        expect(await inPage(page, 'return client.signInWithPasskey()')).toMatchObject({
          ok: false,
          code: 'passkey_invalid',
          name: 'TesseraError',
        });
      } finally {
        await context.close();
        await server.close();
      }
    }, 60_000);
  }

  for (const mode of ['session', 'jwt', 'hybrid'] as const) {
    it(`${mode} mode: the passkey as second factor after the password (verifyWithPasskey), and as step-up proof`, async () => {
      const port = await freePort();
      const origin = `http://localhost:${port}`;
      const server = await startTessera({
        env: { TESSERA_MODE: mode, TESSERA_ISSUER: origin },
        runtime: systemRuntime,
      });
      servePage(server.app);
      await server.app.listen({ port, host: 'localhost' });
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${origin}/test/page`);
        await virtualAuthenticator(page);
        const email = newEmail();
        const credentials = { email, password: PASSWORD };
        await post(server.app, '/auth/register', credentials);
        await inPage(page, 'await client.login(arg.email, arg.password)', credentials);
        expect(await inPage(page, "return client.registerPasskey('Laptop')")).toMatchObject({ ok: true });
        await inPage(page, 'await client.logout()');

        // The password alone no longer opens a login: the passkey is asked for.
        const first = await inPage(page, 'return client.login(arg.email, arg.password)', credentials);
        expect(first).toEqual({ ok: true, value: { mfaRequired: true, methods: ['passkey'] } });
        expect(await inPage(page, 'return client.currentUser()')).toEqual({ ok: true, value: null });
        const second = await inPage(page, 'return (await client.verifyWithPasskey()).session.amr');
        expect(second).toEqual({ ok: true, value: ['hwk', 'mfa', 'pwd', 'user'] });
        expect(await inPage(page, 'return (await client.currentUser()).email')).toEqual({
          ok: true,
          value: email,
        });

        // Step-up with the passkey: auth_time now, amr the passkey's; then removal is allowed.
        const stepped = await inPage(page, 'return client.reauthenticateWithPasskey()');
        expect(stepped).toMatchObject({ ok: true, value: { amr: ['hwk', 'user'] } });
        const session = await inPage(
          page,
          "return (await (await client.fetch('/auth/session')).json()).session",
        );
        expect(session).toMatchObject({ ok: true, value: { amr: ['hwk', 'user'], acr: 'aal2' } });
        const id = (await inPage(
          page,
          "return (await (await client.fetch('/auth/passkeys')).json()).passkeys[0].id",
        )) as { value: string };
        const removed = await inPage(
          page,
          "return (await client.fetch('/auth/passkeys/' + arg, { method: 'DELETE' })).status",
          id.value,
        );
        expect(removed).toEqual({ ok: true, value: 204 });
      } finally {
        await context.close();
        await server.close();
      }
    }, 60_000);
  }

  it('OAuth sign-in page: a passkey as the second step after the password, and alone; consent only after it', async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const server = await startTessera({ env: { TESSERA_ISSUER: origin }, runtime: systemRuntime });
    servePage(server.app);
    await server.app.listen({ port, host: 'localhost' });
    const context = await browser.newContext();
    await context.route('https://app.example/**', (route) =>
      route.fulfill({ status: 200, body: 'callback' }),
    );
    try {
      const page = await context.newPage();
      const failures: string[] = [];
      page.on('pageerror', (error) => failures.push(error.message));
      await page.goto(`${origin}/test/page`);
      await virtualAuthenticator(page);
      const email = newEmail();
      await post(server.app, '/auth/register', { email, password: PASSWORD });
      await inPage(page, 'await client.login(arg.email, arg.password)', { email, password: PASSWORD });
      expect(await inPage(page, 'return client.registerPasskey()')).toMatchObject({ ok: true });
      await inPage(page, 'await client.logout()');
      const { client } = await server.tessera.oauth.clients.create(
        {
          name: 'Budget Buddy',
          type: 'public',
          redirectUris: ['https://app.example/callback'],
          scopes: ['accounts:read'],
          audience: 'https://api.example',
        },
        { actorId: null, client: { ip: 'test', userAgent: 'test' } },
      );
      const authorize = new URL('/oauth/authorize', origin);
      authorize.search = new URLSearchParams({
        client_id: client.id,
        redirect_uri: 'https://app.example/callback',
        response_type: 'code',
        scope: 'accounts:read',
        state: 's',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString();
      const consent = page.getByRole('heading', { name: 'Budget Buddy wants access to your account' });

      // Password, then the passkey in place of a code: the consent page only after it.
      await page.goto(authorize.href);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('button', { name: 'Use a passkey' }).waitFor();
      expect(await page.getByLabel('Code from your authenticator app (or a recovery code)').isVisible()).toBe(
        false,
      );
      expect(await consent.count()).toBe(0);
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await consent.waitFor();
      const user = await server.tessera.accounts.findByEmail(email);
      const logins = await server.tessera.sessions.listOfUser(user?.id as string);
      // The login the consent page stands on: password, then the passkey (RFC 8176 mfa).
      expect(logins.map((login) => login.amr)).toContainEqual(['hwk', 'mfa', 'pwd', 'user']);

      // Signed out again: the passkey alone, no email typed.
      await context.clearCookies();
      await page.goto(authorize.href);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await consent.waitFor();
      expect(failures).toEqual([]);
    } finally {
      await context.close();
      await server.close();
    }
  }, 60_000);

  it('a browser-made assertion is refused when replayed, and when signed on another origin (a phishing page)', async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const server = await startTessera({ env: { TESSERA_ISSUER: origin }, runtime: systemRuntime });
    servePage(server.app);
    await server.app.listen({ port, host: 'localhost' });
    // The phishing site: same page and SDK, another origin (same registrable host, so the
    // browser lets it use RP id `localhost`: the worst case, only the origin differs).
    const phishingPort = await freePort();
    const phishing: Server = createServer((request, response) => {
      const file = request.url?.replace('/test/sdk/', '') ?? '';
      if (SDK_FILES.includes(file))
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk(file));
      else
        response
          .writeHead(200, { 'content-type': 'text/html', 'content-security-policy': PAGE_CSP })
          .end(PAGE);
    });
    await new Promise<void>((resolve) => phishing.listen(phishingPort, 'localhost', resolve));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/test/page`);
      await virtualAuthenticator(page);
      const email = newEmail();
      await post(server.app, '/auth/register', { email, password: PASSWORD });
      await inPage(page, 'await client.login(arg.email, arg.password)', { email, password: PASSWORD });
      expect(await inPage(page, 'return client.registerPasskey()')).toMatchObject({ ok: true });

      // A real assertion from the browser for a challenge Tessera issued, sent twice.
      const getAssertion = async (on: Page) => {
        const options = (await post(server.app, '/auth/passkeys/login/options', {})).json();
        const made = await inPage(
          on,
          'const { getPasskeyCredential } = await import("/test/sdk/passkeys.js"); return getPasskeyCredential(arg)',
          options,
        );
        expect(made.ok, JSON.stringify(made)).toBe(true);
        return (made as { value: unknown }).value;
      };
      const response = await getAssertion(page);
      expect((await post(server.app, '/auth/passkeys/login', { response })).statusCode).toBe(200);
      const replay = await post(server.app, '/auth/passkeys/login', { response });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error).toBe('passkey_challenge_invalid');

      // The same tab, same authenticator and credential, on the phishing origin: the browser
      // signs, naming the page's true origin, and Tessera refuses it.
      await page.goto(`http://localhost:${phishingPort}/`);
      const phished = await getAssertion(page);
      const clientData = JSON.parse(
        Buffer.from(
          (phished as { response: { clientDataJSON: string } }).response.clientDataJSON,
          'base64url',
        ).toString(),
      );
      expect(clientData.origin).toBe(`http://localhost:${phishingPort}`);
      const refused = await post(server.app, '/auth/passkeys/login', { response: phished });
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error).toBe('passkey_invalid');
    } finally {
      await context.close();
      await new Promise((resolve) => phishing.close(resolve));
      await server.close();
    }
  }, 60_000);

  it('conditional UI: signInWithPasskey({conditional: true}) waits without a dialog, can be aborted, signs in with the picked passkey', async () => {
    const port = await freePort();
    const origin = `http://localhost:${port}`;
    const server = await startTessera({ env: { TESSERA_ISSUER: origin }, runtime: systemRuntime });
    servePage(server.app);
    await server.app.listen({ port, host: 'localhost' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin}/test/page`);
      const { cdp, authenticatorId } = await virtualAuthenticator(page);
      expect(await inPage(page, 'return sdk.conditionalMediationAvailable()')).toEqual({
        ok: true,
        value: true,
      });
      const race = (ms: number) =>
        inPage(
          page,
          `return await Promise.race([globalThis.pending, new Promise((r) => setTimeout(() => r('waiting'), ${ms}))])`,
        );
      const startConditional = () =>
        inPage(
          page,
          `globalThis.controller = new AbortController();
          globalThis.pending = client.signInWithPasskey({ conditional: true, signal: controller.signal })
            .then((r) => r.user.email, (e) => 'error ' + e.name)`,
        );

      const email = newEmail();
      await post(server.app, '/auth/register', { email, password: PASSWORD });
      await inPage(page, 'await client.login(arg.email, arg.password)', { email, password: PASSWORD });
      expect(await inPage(page, 'return client.registerPasskey()')).toMatchObject({ ok: true });
      await inPage(page, 'await client.logout()');

      // Nobody picks (the virtual authenticator's simulated user is away): the request shows
      // no dialog and waits, until the page aborts it (it leaves the sign-in form).
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
      await startConditional();
      expect(await race(1000)).toEqual({ ok: true, value: 'waiting' });
      await inPage(page, 'controller.abort()');
      // Chromium reports an aborted conditional request as NotAllowedError, others as AbortError.
      expect(await race(2000)).toMatchObject({
        ok: true,
        value: expect.stringMatching(/^error (AbortError|NotAllowedError)$/),
      });
      expect(await inPage(page, 'return client.currentUser()')).toEqual({ ok: true, value: null });

      // The user picks the passkey (the virtual authenticator's simulated presence stands in
      // for the pick in the autofill list): signed in.
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
      await startConditional();
      expect(await race(5000)).toEqual({ ok: true, value: email });
      expect(await inPage(page, 'return (await client.currentUser()).email')).toEqual({
        ok: true,
        value: email,
      });
    } finally {
      await context.close();
      await server.close();
    }
  }, 60_000);
});
