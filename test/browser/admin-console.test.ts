import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { browserAvailable, launchBrowser } from './browser.js';

/** Screenshots land here (gitignored): the console as a person saw it during the test. */
const ARTIFACTS = 'test-artifacts';

describe.skipIf(!browserAvailable('the admin console browser test'))(
  'the admin console in a real browser',
  () => {
    let browser: Browser;
    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    for (const mode of ['session', 'hybrid'] as const) {
      it(`${mode} mode: an admin sees a customer's session, revokes it, and the customer's next request is 401`, async () => {
        const server: TestServer = await startTessera({
          env: { TESSERA_MODE: mode },
          runtime: systemRuntime,
        });
        // localhost is a secure context for browsers, so __Host- (Secure) cookies work over plain HTTP.
        await server.app.listen({ port: 0, host: 'localhost' });
        const { port } = server.app.server.address() as { port: number };
        const origin = `http://localhost:${port}`;
        try {
          const adminEmail = newEmail();
          await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin']);
          const customerEmail = newEmail();
          await server.tessera.accounts.register({ email: customerEmail, password: PASSWORD });
          const customer = (
            await post(
              server.app,
              '/auth/login',
              { email: customerEmail, password: PASSWORD, transport: 'bearer' },
              {
                'user-agent':
                  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
              },
            )
          ).json();
          const customerHeaders = { authorization: `Bearer ${customer.token ?? customer.accessToken}` };
          const customerRequest = () =>
            server.app.inject({ method: 'GET', url: '/auth/session', headers: customerHeaders });
          expect((await customerRequest()).statusCode).toBe(200);

          const context = await browser.newContext();
          const page = await context.newPage();
          const failures: string[] = [];
          // CSP violations and script errors; a 401 before login or a missing favicon is expected.
          page.on('console', (message) => {
            if (message.type() === 'error' && !/Failed to load resource/.test(message.text()))
              failures.push(message.text());
          });
          page.on('pageerror', (error) => failures.push(error.message));
          await page.goto(`${origin}/admin`);
          await page.fill('#email', adminEmail);
          await page.fill('#password', PASSWORD);
          await page.click('#login-form button[type=submit]');

          const row = page.locator(`#sessions tr[data-email="${customerEmail}"]`);
          await row.waitFor({ timeout: 10_000 });
          await expect(row.textContent()).resolves.toContain('Safari 17 on iOS 17');
          await page.screenshot({ path: `${ARTIFACTS}/admin-console-${mode}-before.png`, fullPage: true });

          await row.locator('button', { hasText: 'Revoke' }).click();
          await row.waitFor({ state: 'detached', timeout: 10_000 });
          await page.screenshot({ path: `${ARTIFACTS}/admin-console-${mode}-after.png`, fullPage: true });

          const refused = await customerRequest();
          expect(refused.statusCode).toBe(401);
          const events = await server.tessera.audit.list({ type: 'session.revoked' });
          expect(events[0]?.sessionId).toBe(customer.session.id);
          // The strict CSP let the console's own script and styles run, and nothing was blocked.
          expect(failures).toEqual([]);
          await context.close();
        } finally {
          await server.close();
        }
      });
    }
  },
);
