import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { newEmail, PASSWORD, post, startTessera } from '../helpers.js';
import { nextCode } from '../mfa-helpers.js';
import { signInToConsole } from './admin-sign-in.js';
import { browserAvailable, launchBrowser } from './browser.js';

const WAIT = { timeout: 15_000 };

/**
 * The console's step-up: an admin whose last proof is older than TESSERA_STEP_UP_MAX_AGE locks
 * a customer; the API answers 401 step_up_required, the console asks for a code in a dialog,
 * steps the login up (POST /auth/reauthenticate) and retries the lock, which then happens.
 */
describe.skipIf(!browserAvailable('the console step-up browser test'))(
  'the console asks for a fresh code',
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    it('a stale proof: the lock waits for a code, then goes through', async () => {
      const server = await startTessera({ env: { TESSERA_MODE: 'session' }, runtime: systemRuntime });
      await server.app.listen({ port: 0, host: 'localhost' });
      const { port } = server.app.server.address() as { port: number };
      const context = await browser.newContext();
      try {
        const adminEmail = newEmail();
        const adminId = (
          await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin'])
        ).id;
        const customerEmail = newEmail();
        const customerId = (
          await server.tessera.accounts.register({ email: customerEmail, password: PASSWORD })
        ).id;
        await post(server.app, '/auth/login', {
          email: customerEmail,
          password: PASSWORD,
          transport: 'bearer',
        });
        const page = await context.newPage();
        const failures: string[] = [];
        page.on('pageerror', (error) => failures.push(error.message));
        await page.goto(`http://localhost:${port}/admin`);
        await signInToConsole(page, adminEmail);
        const row = page.locator(`#users tr[data-email="${customerEmail}"]`);
        await row.waitFor(WAIT);
        await expect(page.locator(`#users tr[data-email="${adminEmail}"]`).textContent()).resolves.toContain(
          'authenticator app',
        );
        // The admin's proof (a code, at sign-in) is now 10 minutes old.
        const [login] = await server.tessera.sessions.listOfUser(adminId);
        await server.tessera.sessions.recordProof(
          login?.id as string,
          ['otp', 'pwd'],
          Date.now() - 10 * 60_000,
        );

        await row.locator('button', { hasText: 'Lock' }).click();
        await page.fill('#lock-reason', 'card reported stolen');
        await page.locator('#lock-dialog button[value=ok]').click();
        const stepUp = page.locator('#step-up-dialog');
        await stepUp.waitFor({ state: 'visible', ...WAIT });
        expect((await server.tessera.accounts.findById(customerId))?.lockedAt).toBeNull();
        await page.fill('#step-up-code', '000000');
        await stepUp.locator('button[value=ok]').click();
        await expect.poll(() => stepUp.locator('.error').textContent(), WAIT).toMatch(/code/i);
        await page.fill('#step-up-code', nextCode(adminEmail, Date.now()) as string);
        await stepUp.locator('button[value=ok]').click();
        await expect
          .poll(() => page.locator('#notice').textContent(), WAIT)
          .toContain(`Locked ${customerEmail} (1 login ended).`);
        expect((await server.tessera.accounts.findById(customerId))?.lockedAt).not.toBeNull();
        expect(failures).toEqual([]);
      } finally {
        await context.close();
        await server.close();
      }
    });
  },
);
