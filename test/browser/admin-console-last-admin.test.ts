import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { newEmail, PASSWORD, startTessera } from '../helpers.js';
import { browserAvailable, launchBrowser } from './browser.js';

/** The console shows the API's refusal to leave no admin (409 last_admin), and changes nothing. */
describe.skipIf(!browserAvailable('the admin console last-admin browser test'))(
  'the admin console: the last admin',
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    it('removing your own admin role as the only admin shows the refusal and keeps the role', async () => {
      const server = await startTessera({ runtime: systemRuntime });
      await server.app.listen({ port: 0, host: 'localhost' });
      const { port } = server.app.server.address() as { port: number };
      try {
        const email = newEmail();
        const admin = await server.tessera.accounts.register({ email, password: PASSWORD }, ['admin']);
        const context = await browser.newContext();
        const page = await context.newPage();
        page.on('dialog', (dialog) => void dialog.accept('teller'));
        await page.goto(`http://localhost:${port}/admin`);
        await page.fill('#email', email);
        await page.fill('#password', PASSWORD);
        await page.click('#login-form button[type=submit]');

        const row = page.locator('#users tr', { hasText: email });
        await row.waitFor({ timeout: 10_000 });
        await row.locator('button', { hasText: 'Roles' }).click();
        const error = page.locator('#console-error');
        await expect
          .poll(() => error.textContent(), { timeout: 10_000 })
          .toMatch(/would leave no unlocked account with the admin role/);
        expect(await server.tessera.accounts.findById(admin.id)).toMatchObject({ roles: ['admin'] });
        await context.close();
      } finally {
        await server.close();
      }
    });
  },
);
