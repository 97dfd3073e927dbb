import * as oauth from 'oauth4webapi';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { browserAvailable, launchBrowser } from '../browser/browser.js';
import { newEmail, PASSWORD, startTessera, type TestServer } from '../helpers.js';

/**
 * The authorization endpoint as a person meets it, in Chromium: the sign-in page (its script
 * logs in through /auth/login), the consent page, and the redirect back after "Allow", which
 * the page's CSP (form-action) must let through to the registered redirect URI only.
 */
describe.skipIf(!browserAvailable('the OAuth consent browser test'))(
  'OAuth consent in a real browser',
  () => {
    let browser: Browser;
    let server: TestServer;
    let origin: string;
    beforeAll(async () => {
      browser = await launchBrowser();
      server = await startTessera({ runtime: systemRuntime });
      // localhost is a secure context, so the __Host- cookies work over plain HTTP.
      await server.app.listen({ port: 0, host: 'localhost' });
      origin = `http://localhost:${(server.app.server.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('signs in, asks consent, and sends the code to the registered redirect URI', async () => {
      const email = newEmail();
      await server.tessera.accounts.register({ email, password: PASSWORD });
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
      const context = await browser.newContext();
      // The app's callback, answered here: the browser never leaves the machine.
      await context.route('https://app.example/**', (route) =>
        route.fulfill({ status: 200, body: 'callback' }),
      );
      const page = await context.newPage();
      const failures: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) failures.push(m.text());
      });
      page.on('pageerror', (error) => failures.push(error.message));

      const url = new URL('/oauth/authorize', origin);
      url.search = new URLSearchParams({
        client_id: client.id,
        redirect_uri: 'https://app.example/callback',
        response_type: 'code',
        scope: 'accounts:read',
        state: 'browser-state',
        code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
        code_challenge_method: 'S256',
      }).toString();
      await page.goto(url.href);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Budget Buddy wants access to your account' }).waitFor();
      expect(await page.getByText('See your accounts and their activity').count()).toBe(1);
      // The browser follows the 303 to the app (a redirect hop is not routed, so no answer is faked).
      const [redirected] = await Promise.all([
        page.waitForRequest((r) => r.url().startsWith('https://app.example/callback'), { timeout: 10_000 }),
        page.getByRole('button', { name: 'Allow' }).click(),
      ]);
      const callback = new URL(redirected.url());
      expect(callback.searchParams.get('state')).toBe('browser-state');
      expect(callback.searchParams.get('code')).toMatch(/^[\w-]{22}\.[\w-]{43}$/);
      expect(failures).toEqual([]);
      await context.close();
    });
  },
);
