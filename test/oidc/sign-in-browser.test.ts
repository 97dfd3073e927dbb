import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { browserAvailable, launchBrowser } from '../browser/browser.js';
import { newEmail, PASSWORD, startTessera, type TestServer } from '../helpers.js';

/**
 * OpenID Connect's front door in Chromium on a 375 px phone screen under the strict CSP:
 * prompt=login shows the sign-in page to a signed-in user (prefilled from login_hint), the
 * fresh sign-in goes on to consent instead of looping, and the code reaches the app; then
 * RP-initiated logout without a hint asks on a confirmation page and returns to the app.
 */
describe.skipIf(!browserAvailable('the OpenID Connect browser test'))(
  'OpenID Connect in a real browser',
  () => {
    let browser: Browser;
    let server: TestServer;
    let origin: string;
    beforeAll(async () => {
      browser = await launchBrowser();
      server = await startTessera({ runtime: systemRuntime });
      await server.app.listen({ port: 0, host: 'localhost' });
      origin = `http://localhost:${(server.app.server.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('prompt=login at 375 px: sign in again, consent, code; then a confirmed RP-initiated logout', async () => {
      const email = newEmail();
      const user = await server.tessera.accounts.register({ email, password: PASSWORD });
      const { client } = await server.tessera.oauth.clients.create(
        {
          name: 'Ledger Lens',
          type: 'public',
          redirectUris: ['https://ledger.example/callback'],
          scopes: ['openid', 'email'],
          audience: 'https://ledger.example',
          oidc: { postLogoutRedirectUris: ['https://ledger.example/bye'] },
        },
        { actorId: null, client: { ip: 'test', userAgent: 'test' } },
      );
      const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true });
      await context.route('https://ledger.example/**', (route) =>
        route.fulfill({ status: 200, body: 'app' }),
      );
      const page = await context.newPage();
      const failures: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) failures.push(m.text());
      });
      page.on('pageerror', (error) => failures.push(error.message));
      const authorize = (extra: Record<string, string>) => {
        const url = new URL('/oauth/authorize', origin);
        url.search = new URLSearchParams({
          client_id: client.id,
          redirect_uri: 'https://ledger.example/callback',
          response_type: 'code',
          scope: 'openid email',
          nonce: 'n-browser',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          ...extra,
        }).toString();
        return url.href;
      };
      // First sign-in and consent.
      await page.goto(authorize({ login_hint: email }));
      expect(await page.getByLabel('Email').inputValue()).toBe(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Ledger Lens wants access to your account' }).waitFor();
      const [first] = await Promise.all([
        page.waitForRequest((r) => r.url().startsWith('https://ledger.example/callback'), {
          timeout: 10_000,
        }),
        page.getByRole('button', { name: 'Allow' }).click(),
      ]);
      expect(new URL(first.url()).searchParams.get('code')).toBeTruthy();

      // prompt=login: signed in, yet asked again; the fresh sign-in goes straight back (consent
      // kept). A new tab (same cookies): the first may still be settling on the app's redirect.
      const again = await context.newPage();
      again.on('pageerror', (error) => failures.push(error.message));
      await again.goto(authorize({ prompt: 'login', login_hint: email }));
      await again.getByText('confirm it is you').waitFor();
      const width = await again.evaluate<number>('document.documentElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(375);
      await again.screenshot({ path: 'test-artifacts/oidc-sign-in-again-375.png' });
      await again.getByLabel('Password').fill(PASSWORD);
      const [second] = await Promise.all([
        again.waitForRequest((r) => r.url().startsWith('https://ledger.example/callback'), {
          timeout: 10_000,
        }),
        again.getByRole('button', { name: 'Sign in', exact: true }).click(),
      ]);
      expect(new URL(second.url()).searchParams.get('code')).toBeTruthy();

      // RP-initiated logout without a hint: the confirmation page, then back to the app.
      const logout = new URL('/oauth/logout', origin);
      logout.search = new URLSearchParams({
        client_id: client.id,
        post_logout_redirect_uri: 'https://ledger.example/bye',
        state: 'st',
      }).toString();
      const tab = await context.newPage();
      tab.on('pageerror', (error) => failures.push(error.message));
      await tab.goto(logout.href);
      await tab.getByRole('heading', { name: 'Ledger Lens asks to sign you out.' }).waitFor();
      await tab.screenshot({ path: 'test-artifacts/oidc-logout-confirm-375.png' });
      const [bye] = await Promise.all([
        tab.waitForRequest((r) => r.url().startsWith('https://ledger.example/bye'), { timeout: 10_000 }),
        tab.getByRole('button', { name: 'Sign out' }).click(),
      ]);
      expect(new URL(bye.url()).searchParams.get('state')).toBe('st');
      const logins = await server.tessera.sessions.listOfUser(user.id);
      expect(logins.filter((login) => login.mode !== 'oauth')).toEqual([]);
      expect(failures).toEqual([]);
    }, 60_000);
  },
);
