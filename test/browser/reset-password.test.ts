import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { TestSmtpServer } from '../mail/smtp.js';
import { browserAvailable, launchBrowser } from './browser.js';

const ARTIFACTS = 'test-artifacts';
const NEW_PASSWORD = 'a new passphrase from the browser';

/** A free loopback port, so the links in mails can name the origin the browser will use. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, 'localhost', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe.skipIf(!browserAvailable('the reset-password browser test'))(
  'forgot password in a real browser',
  () => {
    let browser: Browser;
    const smtp = new TestSmtpServer();
    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
      await smtp.stop();
    });

    for (const mode of ['session', 'hybrid'] as const) {
      it(`${mode} mode: the link from the mail opens Tessera's page, the new password is set, the old login is refused`, async () => {
        const port = await freePort();
        const origin = `http://localhost:${port}`;
        const server: TestServer = await startTessera({
          env: {
            TESSERA_MODE: mode,
            TESSERA_SMTP_URL: smtp.port ? `smtp://127.0.0.1:${smtp.port}` : await smtp.start(),
            TESSERA_PUBLIC_URL: origin,
          },
          runtime: systemRuntime,
        });
        server.tessera.email.delivery.start(() => undefined);
        await server.app.listen({ port, host: 'localhost' });
        try {
          const email = newEmail();
          await server.tessera.accounts.register({ email, password: PASSWORD });
          const old = (
            await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
          ).json();
          const oldHeaders = { authorization: `Bearer ${old.token ?? old.accessToken}` };
          const oldSession = () =>
            server.app.inject({ method: 'GET', url: '/auth/session', headers: oldHeaders });
          expect((await oldSession()).statusCode).toBe(200);

          expect((await post(server.app, '/auth/password/forgot', { email })).statusCode).toBe(202);
          const mail = await smtp.waitFor(email, /Reset your password/);
          expect(mail.link.startsWith(`${origin}/auth/reset-password?token=`)).toBe(true);

          const context = await browser.newContext();
          const page = await context.newPage();
          const failures: string[] = [];
          // CSP violations and script errors; the refused reuse (400) and a missing favicon are expected.
          page.on('console', (message) => {
            if (message.type() === 'error' && !/Failed to load resource/.test(message.text()))
              failures.push(message.text());
          });
          page.on('pageerror', (error) => failures.push(error.message));
          await page.goto(mail.link);
          // The script took the token out of the address bar before anything else.
          await page.waitForURL((url) => url.search === '');
          expect(page.url()).toBe(`${origin}/auth/reset-password`);
          // Opening the page changed nothing.
          expect((await oldSession()).statusCode).toBe(200);

          await page.fill('#newPassword', NEW_PASSWORD);
          await page.click('#email-form button[type=submit]');
          await page.locator('#email-status.done').waitFor({ timeout: 10_000 });
          await expect(page.locator('#email-status').textContent()).resolves.toMatch(
            /password has been changed/,
          );
          await page.screenshot({ path: `${ARTIFACTS}/reset-password-${mode}.png`, fullPage: true });

          expect((await oldSession()).statusCode).toBe(401);
          expect((await post(server.app, '/auth/login', { email, password: PASSWORD })).statusCode).toBe(401);
          expect((await post(server.app, '/auth/login', { email, password: NEW_PASSWORD })).statusCode).toBe(
            200,
          );
          // The same link again, in the browser: refused, with the reason shown.
          await page.goto(mail.link);
          await page.fill('#newPassword', 'yet another passphrase');
          await page.click('#email-form button[type=submit]');
          await page.locator('#email-status', { hasText: 'already been used' }).waitFor({ timeout: 10_000 });
          expect(failures).toEqual([]);
          await context.close();
        } finally {
          await server.close();
        }
      });
    }
  },
);
