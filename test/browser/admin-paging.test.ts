import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalEmailKey } from '../../src/core/email-key.js';
import { systemRuntime } from '../../src/core/runtime.js';
import { newEmail, PASSWORD, startTessera } from '../helpers.js';
import { signInToConsole } from './admin-sign-in.js';
import { browserAvailable, launchBrowser } from './browser.js';

const WAIT = { timeout: 15_000 };

/**
 * The console's user list in a real browser: "Load more" asks the API for the next page with its
 * `next` cursor (the list grows, the button goes when there is no more), and the search box asks
 * the API (`?q=`) for addresses starting with what was typed, case folded.
 */
describe.skipIf(!browserAvailable('the admin console paging browser test'))(
  'console paging and search',
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    it('Load more follows the cursor; the search box finds users by the start of their address', async () => {
      const server = await startTessera({ env: { TESSERA_MODE: 'session' }, runtime: systemRuntime });
      await server.app.listen({ port: 0, host: 'localhost' });
      const { port } = server.app.server.address() as { port: number };
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      try {
        const adminEmail = newEmail();
        await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin']);
        // 130 more accounts, written to the store directly (no argon2 per account: nobody logs in as them).
        const now = Date.now();
        for (let i = 0; i < 130; i++) {
          const email = `pager${String(i).padStart(3, '0')}@paging.test`;
          await server.tessera.stores.users.createUser({
            id: `pager-${i}`,
            email,
            emailKey: canonicalEmailKey(email),
            passwordHash: 'not-a-real-hash',
            roles: [],
            lockedAt: null,
            lockReason: null,
            createdAt: now,
            updatedAt: now,
          });
        }
        const page = await context.newPage();
        const userRequests: string[] = [];
        page.on('request', (request) => {
          const url = new URL(request.url());
          if (url.pathname === '/admin/api/users') userRequests.push(url.search);
        });
        await page.goto(`http://localhost:${port}/admin`);
        // Admins sign in with an authenticator app (enrolled at the first sign-in).
        await signInToConsole(page, adminEmail);

        const rows = page.locator('#users tr[data-email]');
        // The console's page is 100 rows: the first page, then "Load more" for the rest.
        await expect.poll(() => rows.count(), WAIT).toBe(100);
        await expect(page.locator('#users-more').isVisible()).resolves.toBe(true);
        await page.click('#users-more');
        await expect.poll(() => rows.count(), WAIT).toBe(131);
        await expect.poll(() => page.locator('#users-more').isVisible(), WAIT).toBe(false);
        expect(userRequests.some((search) => new URLSearchParams(search).has('cursor'))).toBe(true);
        expect(userRequests.every((search) => Number(new URLSearchParams(search).get('limit')) <= 200)).toBe(
          true,
        );

        await page.fill('#users-search', 'PAGER12');
        await expect.poll(() => rows.count(), WAIT).toBe(10);
        const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-email')));
        // Ordered by canonical key, where 0 and 1 read as o and l: compare as a set.
        expect(shown.sort()).toEqual(Array.from({ length: 10 }, (_, k) => `pager12${k}@paging.test`));
        expect(userRequests.some((search) => new URLSearchParams(search).get('q') === 'PAGER12')).toBe(true);
      } finally {
        await context.close();
        await server.close();
      }
    }, 90_000);
  },
);
