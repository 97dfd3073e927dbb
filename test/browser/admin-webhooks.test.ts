import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { startReceiver } from '../events/receiver.js';
import { newEmail, PASSWORD, post, startTessera } from '../helpers.js';
import { signInToConsole } from './admin-sign-in.js';
import { browserAvailable, launchBrowser } from './browser.js';

const ARTIFACTS = 'test-artifacts';
const WAIT = { timeout: 15_000 };

/**
 * The console's webhooks section in a real browser: add an endpoint (the secret shown once),
 * see its latest delivery, a receiver's failures in its deliveries, replay one, delete it.
 */
describe.skipIf(!browserAvailable('the admin console webhooks browser test'))('the console: webhooks', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  it('add, watch deliveries and failures, replay, delete', async () => {
    const server = await startTessera({ runtime: systemRuntime });
    const receiver = await startReceiver();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      server.tessera.startBackgroundJobs(() => undefined);
      await server.app.listen({ port: 0, host: 'localhost' });
      const { port } = server.app.server.address() as { port: number };
      const adminEmail = newEmail();
      await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin']);
      const customerEmail = newEmail();
      await server.tessera.accounts.register({ email: customerEmail, password: PASSWORD });
      const customerLogout = async () => {
        const body = (
          await post(server.app, '/auth/login', {
            email: customerEmail,
            password: PASSWORD,
            transport: 'bearer',
          })
        ).json();
        const out = await server.app.inject({
          method: 'POST',
          url: '/auth/logout',
          headers: { authorization: `Bearer ${body.token}` },
        });
        expect(out.statusCode).toBe(204);
      };

      const page = await context.newPage();
      const failures: string[] = [];
      page.on('pageerror', (error) => failures.push(error.message));
      page.on('dialog', (dialog) => {
        failures.push(`native ${dialog.type()}`);
        void dialog.dismiss();
      });
      await page.goto(`http://localhost:${port}/admin`);
      // The admin enrols an authenticator app at first sign-in (TESSERA_MFA_REQUIRED_ROLES).
      await signInToConsole(page, adminEmail);
      await page.locator('#new-webhook').waitFor(WAIT);

      await page.click('#new-webhook');
      await page.fill('#webhook-url', 'ftp://nowhere.example');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('#webhook-dialog .error').textContent(), WAIT).toMatch(/https/);
      await page.fill('#webhook-url', receiver.url);
      await page.keyboard.press('Enter');
      await expect
        .poll(() => page.locator('#webhook-secret').textContent(), WAIT)
        .toMatch(/signing secret whsec_\S+ \(shown once/);
      const secret = /(whsec_\S+)/.exec((await page.locator('#webhook-secret').textContent()) ?? '')?.[1];
      receiver.state.secret = secret;

      const row = page.locator('#webhooks tr').first();
      await expect.poll(() => row.textContent(), WAIT).toContain(receiver.url);
      await customerLogout();
      await receiver.waitFor(1);
      expect(receiver.received[0]?.verified?.type).toBe('session.revoked');
      await expect.poll(() => row.textContent(), WAIT).toMatch(/delivered \(HTTP 202\)/);

      // The receiver fails: the delivery waits for its retry, the error visible.
      receiver.state.status = 500;
      await customerLogout();
      await row.locator('button', { hasText: 'Deliveries' }).click();
      const deliveries = page.locator('#webhook-deliveries tr');
      await expect.poll(() => deliveries.count(), WAIT).toBe(2);
      const failing = deliveries.filter({ hasText: 'HTTP 500' });
      await expect.poll(() => failing.count(), WAIT).toBe(1);
      await expect(failing.textContent()).resolves.toContain('pending');
      await page.screenshot({ path: `${ARTIFACTS}/admin-webhooks-1280.png`, fullPage: true });

      // The receiver is back: Replay sends it now, with the same webhook-id.
      receiver.state.status = 202;
      const before = receiver.received.length;
      await failing.locator('button', { hasText: 'Replay' }).click();
      await expect.poll(() => receiver.received.filter((r) => r.verified).length > 1, WAIT).toBe(true);
      await expect.poll(() => deliveries.filter({ hasText: 'delivered' }).count(), WAIT).toBe(2);
      expect(receiver.received.length).toBeGreaterThan(before);

      await page.setViewportSize({ width: 375, height: 800 });
      await page.screenshot({ path: `${ARTIFACTS}/admin-webhooks-375.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });

      await row.locator('button', { hasText: 'Delete…' }).click();
      await page.locator('#confirm-dialog button[value=ok]').click();
      await expect.poll(() => page.locator('#webhooks tr').count(), WAIT).toBe(0);
      expect(await server.tessera.events.webhooks.list()).toEqual([]);
      expect(failures).toEqual([]);
    } finally {
      await context.close();
      await server.close();
      await receiver.close();
    }
  }, 60_000);
});
