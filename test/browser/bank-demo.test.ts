import { mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBankApp, buildSdkBundle } from '../../examples/bank/app.mjs';
import { createAuth } from '../../src/adapters/fastify.js';
import { InProcessBus } from '../../src/store/memory/in-process-bus.js';
import { newEmail, PASSWORD, startTessera, TEST_CSRF_SECRET } from '../helpers.js';
import { browserAvailable, launchBrowser } from './browser.js';

const ARTIFACTS = 'test-artifacts';
/** The SDK's promise: small. The figure is printed; the bound catches an accidental dependency. */
const MAX_SDK_GZIP_BYTES = 4096;

describe.skipIf(!browserAvailable('the bank demo browser test'))('the bank demo in a real browser', () => {
  let browser: Browser;
  let sdk: string;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [browser, sdk] = await Promise.all([launchBrowser(), buildSdkBundle()]);
    const gzipped = gzipSync(sdk).length;
    console.log(`tessera/client bundle: ${sdk.length} B minified, ${gzipped} B gzipped`);
    expect(gzipped).toBeLessThan(MAX_SDK_GZIP_BYTES);
  });
  afterAll(() => browser?.close());

  for (const mode of ['hybrid', 'jwt', 'session'] as const) {
    const refreshes = mode !== 'session';
    it(`${mode} mode: ${refreshes ? 'two tabs share one refresh; ' : ''}a removed role is refused at the next click; a locked account sends both tabs to the login page`, async () => {
      // Tessera and the bank share a manual clock: expiry without waiting, bank and Tessera agreeing.
      const bus = new InProcessBus();
      const server = await startTessera({ env: { TESSERA_MODE: mode }, bus });
      const tesseraUrl = await server.app.listen({ port: 0, host: '127.0.0.1' });
      const auth = createAuth({
        mode,
        tesseraUrl,
        issuer: server.tessera.config.jwt.issuer,
        csrfSecret: TEST_CSRF_SECRET,
        now: server.clock.now,
        ...(mode === 'hybrid' ? { revocations: { store: server.tessera.stores.revocations, bus } } : {}),
      });
      const bank = await buildBankApp({ auth, tesseraUrl, mode, sdk, pollMs: 1000 });
      // localhost is a secure context, so the __Host- (Secure) cookies work over plain HTTP.
      await bank.listen({ port: 0, host: 'localhost' });
      const origin = `http://localhost:${(bank.server.address() as { port: number }).port}`;
      const context = await browser.newContext();
      try {
        const email = newEmail();
        const user = await server.tessera.accounts.register({ email, password: PASSWORD }, ['teller']);
        const failures: string[] = [];
        let refreshCount = 0;
        context.on('request', (request) => {
          if (request.method() === 'POST' && new URL(request.url()).pathname === '/auth/refresh')
            refreshCount++;
        });
        const watch = (page: Page) => {
          // 401s are the point of this test; a CSP violation or a script error is not.
          page.on('console', (m) => {
            if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) failures.push(m.text());
          });
          page.on('pageerror', (error) => failures.push(error.message));
          return page;
        };

        const tab1 = watch(await context.newPage());
        await tab1.goto(`${origin}/login`);
        await tab1.fill('#email', email);
        await tab1.fill('#password', PASSWORD);
        await tab1.click('#login button[type=submit]');
        await tab1.waitForURL(`${origin}/account`);
        const tab2 = watch(await context.newPage());
        await tab2.goto(`${origin}/account`);
        for (const tab of [tab1, tab2]) await expect.poll(() => tab.textContent('#balance')).toContain('€');
        // "Signed in as" names the person in every mode (GET /auth/session gives the email).
        await expect.poll(() => tab1.textContent('#who')).toBe(email);
        await expect.poll(() => tab1.locator('#devices tr').count()).toBe(1);

        if (refreshes) {
          // Both tabs hold the same access token (one cookie jar); it expires for both at once.
          refreshCount = 0;
          const loadsBefore = await Promise.all([tab1, tab2].map(loadsOf));
          server.clock.advance(server.tessera.config.jwt.accessTokenTtlMs + 61_000);
          await Promise.all([tab1.click('#reload'), tab2.click('#reload')]);
          for (const [i, tab] of [tab1, tab2].entries()) {
            await expect
              .poll(() => loadsOf(tab), { timeout: 10_000 })
              .toBeGreaterThan(loadsBefore[i] as number);
          }
          expect(refreshCount).toBe(1);
          expect([tab1.url(), tab2.url()]).toEqual([`${origin}/account`, `${origin}/account`]);
          await tab2.screenshot({ path: `${ARTIFACTS}/bank-${mode}-after-refresh.png` });
        }

        // session: past the bank's 2 s positive cache; jwt: past the access token's expiry (its
        // revocation delay); hybrid: nothing to wait for, the bus carries the change.
        const actor = { actorId: null, client: { ip: '127.0.0.1', userAgent: 'bank-demo test' } };
        const takeEffect = () => {
          if (mode === 'session') server.clock.advance(2_001);
          if (mode === 'jwt') server.clock.advance(server.tessera.config.jwt.accessTokenTtlMs + 61_000);
        };

        // The staff page refuses the next click once the role is gone.
        await tab2.goto(`${origin}/teller`);
        await tab2.locator('#who').filter({ hasNotText: '…' }).waitFor();
        await tab2.click('#approve');
        await expect.poll(() => tab2.textContent('#result')).toMatch(/^Approved/);
        await server.tessera.control.setRoles(user.id, [], actor);
        takeEffect();
        await tab2.click('#approve');
        await expect.poll(() => tab2.textContent('#result')).toMatch(/^Refused \(403 forbidden\)/);

        // Lock: tab1 (account page, reloading every second) finds out and tells tab2 (teller page, idle).
        // A second later, as a person would. (Within the same second, hybrid mode misses the token
        // refreshed in between: its iat was pushed to the next second by the role change's
        // revocation, and a user revocation covers only iat <= its own instant. Reported.)
        server.clock.advance(1_000);
        await server.tessera.control.lockUser(user.id, 'suspected fraud', actor);
        takeEffect();
        for (const tab of [tab1, tab2]) {
          await tab.waitForURL(/\/login\?reason=/, { timeout: 10_000 });
          await tab.locator('#login').waitFor();
          // The customer reads what happened in words (the SDK's sentence), never a raw code.
          const notice = (await tab.textContent('#notice')) ?? '';
          expect(notice).toMatch(/^You were signed out: your login (ended|was ended)/);
          expect(notice).not.toMatch(/[a-z]+_[a-z]+/);
        }
        await tab1.screenshot({ path: `${ARTIFACTS}/bank-${mode}-after-lock.png` });
        expect(failures).toEqual([]);
      } finally {
        await context.close();
        await bank.close();
        await auth.close();
        await server.close();
      }
    });
  }
});

const loadsOf = async (page: Page) => Number((await page.getAttribute('main', 'data-loads')) ?? 0);
