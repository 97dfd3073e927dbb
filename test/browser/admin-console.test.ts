import { mkdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { signInToConsole } from './admin-sign-in.js';
import { browserAvailable, launchBrowser } from './browser.js';

/** Screenshots land here (gitignored): the console as a person saw it during the test. */
const ARTIFACTS = 'test-artifacts';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const WAIT = { timeout: 15_000 };

/** The page is no wider than the viewport: nothing sticks out sideways. */
const overflow = (page: Page): Promise<{ scrollWidth: number; viewport: number }> =>
  page.evaluate('({ scrollWidth: document.documentElement.scrollWidth, viewport: window.innerWidth })');
/** What has the keyboard focus (expressions run in the page: this file compiles without the DOM types). */
const focused = (page: Page, property: 'id' | 'textContent'): Promise<string | undefined> =>
  page.evaluate(`document.activeElement?.${property}`);

/**
 * The admin console driven in a real browser (Debian chromium) in each mode: every question is
 * a dialog (no window.prompt or confirm: a native dialog fails the test), destructive actions
 * say what will happen, API refusals show in the dialog, jwt mode says how long a user may stay
 * signed in, the audit log reads as sentences with filters and exports, and the layout holds
 * at 375 px. Screenshots at 1280 and 375 px go to test-artifacts/.
 */
describe.skipIf(!browserAvailable('the admin console browser test'))(
  'the admin console in a real browser',
  () => {
    let browser: Browser;
    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    for (const mode of ['session', 'jwt', 'hybrid'] as const) {
      it(`${mode} mode: dialogs, confirmations, the readable audit log, exports, phone layout`, async () => {
        const server: TestServer = await startTessera({
          env: { TESSERA_MODE: mode },
          runtime: systemRuntime,
        });
        // localhost is a secure context for browsers, so __Host- (Secure) cookies work over plain HTTP.
        await server.app.listen({ port: 0, host: 'localhost' });
        const { port } = server.app.server.address() as { port: number };
        const context = await browser.newContext({
          viewport: { width: 1280, height: 900 },
          acceptDownloads: true,
        });
        try {
          const adminEmail = newEmail();
          const adminId = (
            await server.tessera.accounts.register({ email: adminEmail, password: PASSWORD }, ['admin'])
          ).id;
          const customerEmail = newEmail();
          const customerId = (
            await server.tessera.accounts.register({ email: customerEmail, password: PASSWORD })
          ).id;
          const customerLogin = async () => {
            const body = (
              await post(
                server.app,
                '/auth/login',
                { email: customerEmail, password: PASSWORD, transport: 'bearer' },
                { 'user-agent': IPHONE },
              )
            ).json();
            const headers = { authorization: `Bearer ${body.token ?? body.accessToken}` };
            // A route that checks the login in the store in every mode (jwt too).
            return () => server.app.inject({ method: 'GET', url: '/auth/sessions', headers });
          };
          const customerDevices = await customerLogin();
          expect((await customerDevices()).statusCode).toBe(200);

          const page = await context.newPage();
          const failures: string[] = [];
          // CSP violations and script errors; a 401 before login or a missing favicon is expected.
          page.on('console', (message) => {
            if (message.type() === 'error' && !/Failed to load resource/.test(message.text()))
              failures.push(message.text());
          });
          page.on('pageerror', (error) => failures.push(error.message));
          // Every question must be a page dialog: a native prompt/confirm is a failure.
          page.on('dialog', (dialog) => {
            failures.push(`native ${dialog.type()}: ${dialog.message()}`);
            void dialog.dismiss();
          });
          // Which admin API calls said they were background polling (x-tessera-background: 1).
          const polls: Array<{ method: string; path: string; background: boolean }> = [];
          page.on('request', (request) => {
            const url = new URL(request.url());
            if (url.pathname.startsWith('/admin/api/') || url.pathname === '/auth/refresh') {
              polls.push({
                method: request.method(),
                path: url.pathname,
                background: request.headers()['x-tessera-background'] === '1',
              });
            }
          });
          await page.goto(`http://localhost:${port}/admin`);
          // Admins sign in with an authenticator app (enrolled at the first sign-in).
          await signInToConsole(page, adminEmail);

          const sessionRow = page.locator(`#sessions tr[data-email="${customerEmail}"]`);
          await sessionRow.waitFor(WAIT);
          await expect(sessionRow.textContent()).resolves.toContain('Safari 17 on iOS 17');
          const userRow = (email: string) => page.locator(`#users tr[data-email="${email}"]`);
          const notice = page.locator('#notice');

          // Roles: the page checks names as the API does, and shows the API's refusal (409 last_admin) in the dialog.
          const rolesDialog = page.locator('#roles-dialog');
          await userRow(adminEmail).locator('button', { hasText: 'Roles' }).click();
          await expect(rolesDialog.isVisible()).resolves.toBe(true);
          expect(await focused(page, 'id')).toBe('roles-input');
          await page.fill('#roles-input', 'Teller');
          await page.keyboard.press('Enter');
          await expect
            .poll(() => rolesDialog.locator('.error').textContent(), WAIT)
            .toMatch(/Not a role name: Teller/);
          await page.fill('#roles-input', 'teller');
          await page.keyboard.press('Enter');
          await expect
            .poll(() => rolesDialog.locator('.error').textContent(), WAIT)
            .toMatch(/would leave no unlocked account with the admin role/);
          await page.screenshot({ path: `${ARTIFACTS}/admin-${mode}-roles-refused-1280.png` });
          await page.keyboard.press('Escape');
          await expect.poll(() => rolesDialog.isVisible(), WAIT).toBe(false);
          // Focus is back on the button that opened the dialog.
          await expect.poll(() => focused(page, 'textContent'), WAIT).toBe('Roles…');
          expect((await server.tessera.accounts.findById(adminId))?.roles).toEqual(['admin']);

          await userRow(customerEmail).locator('button', { hasText: 'Roles' }).click();
          await page.fill('#roles-input', 'teller, support');
          await page.keyboard.press('Enter');
          await expect
            .poll(() => notice.textContent(), WAIT)
            .toContain(`${customerEmail} now has the roles teller, support.`);
          if (mode === 'jwt') expect(await notice.textContent()).toContain('within 5 minutes');
          expect((await server.tessera.accounts.findById(customerId))?.roles).toEqual(['teller', 'support']);

          // Lock: a reason is required; the notice says what ended (and, in jwt mode, for how long the user may go on).
          await userRow(customerEmail).locator('button', { hasText: 'Lock' }).click();
          const lockDialog = page.locator('#lock-dialog');
          await expect(lockDialog.textContent()).resolves.toContain(`Lock ${customerEmail}`);
          if (mode === 'jwt') {
            await expect(lockDialog.locator('.delay').textContent()).resolves.toContain('up to 5 minutes');
          } else expect(await lockDialog.locator('.delay').isVisible()).toBe(false);
          await page.screenshot({ path: `${ARTIFACTS}/admin-${mode}-lock-dialog-1280.png` });
          await lockDialog.locator('button[value=ok]').click();
          expect(await lockDialog.isVisible()).toBe(true); // the empty reason was refused by the form
          await page.fill('#lock-reason', 'card reported stolen');
          await lockDialog.locator('button[value=ok]').click();
          await expect
            .poll(() => notice.textContent(), WAIT)
            .toContain(`Locked ${customerEmail} (1 login ended).`);
          if (mode === 'jwt') {
            expect(await notice.textContent()).toContain(
              `${customerEmail} may stay signed in for up to 5 minutes`,
            );
          }
          expect((await server.tessera.accounts.findById(customerId))?.lockReason).toBe(
            'card reported stolen',
          );
          expect((await customerDevices()).statusCode).toBe(401);

          await userRow(customerEmail).locator('button', { hasText: 'Unlock' }).click();
          await expect.poll(() => notice.textContent(), WAIT).toContain(`Unlocked ${customerEmail}`);

          // Revoke one login: the confirmation names the user and the device.
          const phone = await customerLogin();
          await sessionRow.waitFor(WAIT);
          await sessionRow.locator('button', { hasText: 'Revoke' }).click();
          const confirmDialog = page.locator('#confirm-dialog');
          await expect
            .poll(() => confirmDialog.textContent(), WAIT)
            .toMatch(
              new RegExp(
                `End this login of ${customerEmail.replaceAll('.', '\\.')}.*Safari 17 on iOS 17`,
                's',
              ),
            );
          // Cancel has the focus: Enter alone never destroys.
          expect(await focused(page, 'textContent')).toBe('Cancel');
          await confirmDialog.locator('button[value=ok]').click();
          await sessionRow.waitFor({ state: 'detached', ...WAIT });
          expect((await phone()).statusCode).toBe(401);

          // End every login of a user: the dialog counts them.
          await customerLogin();
          await customerLogin();
          await expect.poll(() => sessionRow.count(), WAIT).toBe(2);
          await userRow(customerEmail).locator('button', { hasText: 'End sessions' }).click();
          await expect
            .poll(() => confirmDialog.textContent(), WAIT)
            .toContain(`${customerEmail}'s 2 live logins and all their API keys end now`);
          await page.screenshot({ path: `${ARTIFACTS}/admin-${mode}-end-sessions-1280.png` });
          await confirmDialog.locator('button[value=ok]').click();
          await expect
            .poll(() => notice.textContent(), WAIT)
            .toContain(`Ended 2 logins of ${customerEmail}.`);

          // Register a third-party application in a form; delete it after a confirmation.
          await page.click('#new-client');
          await page.fill('#client-name', 'Budget Buddy');
          await page.fill('#client-redirects', 'https://budget.example/callback');
          await page.fill('#client-scopes', 'bogus:scope');
          await page.fill('#client-audience', 'https://api.example.com');
          await page.locator('#client-dialog button[value=ok]').click();
          // The API's refusal, in words, in the dialog; the admin corrects and sends again.
          await expect
            .poll(() => page.locator('#client-dialog .error').textContent(), WAIT)
            .toContain('There is no scope named "bogus:scope"');
          await page.fill('#client-scopes', 'accounts:read');
          await page.locator('#client-dialog button[value=ok]').click();
          await expect
            .poll(() => page.locator('#client-secret').textContent(), WAIT)
            .toMatch(/Registered Budget Buddy: client_id \S+, client_secret \S+/);
          const clientRow = page.locator('#clients tr', { hasText: 'Budget Buddy' });
          await clientRow.waitFor(WAIT);
          await clientRow.locator('button', { hasText: 'Delete' }).click();
          await expect
            .poll(() => confirmDialog.textContent(), WAIT)
            .toContain('Every token Budget Buddy holds stops working');
          await confirmDialog.locator('button[value=ok]').click();
          await clientRow.waitFor({ state: 'detached', ...WAIT });

          // An OpenID Connect relying party: subject type, post-logout and back-channel URIs.
          await page.click('#new-client');
          await page.fill('#client-name', 'Ledger Lens');
          await page.fill('#client-redirects', 'https://ledger.example/callback');
          await page.fill('#client-scopes', 'openid email');
          await page.fill('#client-audience', 'https://ledger.example');
          await page.selectOption('#client-subject-type', 'pairwise');
          await page.fill('#client-post-logout', 'https://ledger.example/');
          await page.fill('#client-backchannel', 'https://ledger.example/backchannel-logout');
          await page.locator('#client-dialog button[value=ok]').click();
          await expect
            .poll(() => page.locator('#client-secret').textContent(), WAIT)
            .toMatch(/Registered Ledger Lens: client_id \S+/);
          const relyingParty = (await server.tessera.oauth.clients.list()).find(
            (c) => c.name === 'Ledger Lens',
          );
          expect(relyingParty?.oidc).toMatchObject({
            subjectType: 'pairwise',
            postLogoutRedirectUris: ['https://ledger.example/'],
            backchannelLogoutUri: 'https://ledger.example/backchannel-logout',
          });

          // The audit log in words, with the acting admin, the subject's email and labelled details.
          const locked = page.locator('#audit li[data-type="user.locked"]');
          await locked.waitFor(WAIT);
          const lockedText = await locked.textContent();
          expect(lockedText).toContain(`${adminEmail} locked ${customerEmail}`);
          expect(lockedText).toContain('Reasoncard reported stolen');
          expect(lockedText).toContain('Logins ended1');
          await page.selectOption('#audit-type', 'user.roles_changed');
          // One: the refused change (409) changed nothing, so it is not in the log.
          await expect.poll(() => page.locator('#audit li').count(), WAIT).toBe(1);
          await expect(page.locator('#audit li').first().textContent()).resolves.toContain(
            'Roles afterteller, support',
          );
          await page.selectOption('#audit-type', '');
          await page.fill('#audit-user', customerEmail);
          await expect
            .poll(
              async () =>
                (await page.locator('#audit li').allTextContents()).every((t) => t.includes(customerEmail)),
              WAIT,
            )
            .toBe(true);
          // Exports hold exactly what is shown.
          const shown = await page.locator('#audit li').count();
          const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
          const csvText = readFileSync((await csv.path()) as string, 'utf8');
          const csvLines = csvText.trim().split('\r\n');
          expect(csvLines[0]).toBe(
            'at,event,description,actor_email,actor_id,subject_email,subject_id,session_id,ip,user_agent,detail',
          );
          expect(csvLines).toHaveLength(shown + 1);
          expect(csvText).toContain(`"${adminEmail} locked ${customerEmail}"`);
          const [jsonl] = await Promise.all([page.waitForEvent('download'), page.click('#audit-jsonl')]);
          const events = readFileSync((await jsonl.path()) as string, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line));
          expect(events).toHaveLength(shown);
          expect(events).toContainEqual(
            expect.objectContaining({
              type: 'user.locked',
              actorEmail: adminEmail,
              userEmail: customerEmail,
            }),
          );
          // A time window after now shows nothing.
          await page.fill('#audit-from', '2999-01-01T00:00');
          await expect.poll(() => page.locator('#audit li').count(), WAIT).toBe(0);
          await page.fill('#audit-from', '');
          await page.fill('#audit-user', '');
          await page.screenshot({ path: `${ARTIFACTS}/admin-${mode}-1280.png`, fullPage: true });

          // Phone width: nothing sticks out sideways, dialogs included.
          await page.setViewportSize({ width: 375, height: 812 });
          await expect.poll(() => overflow(page), WAIT).toEqual({ scrollWidth: 375, viewport: 375 });
          await page.screenshot({ path: `${ARTIFACTS}/admin-${mode}-375.png`, fullPage: true });
          await page.click('#logout-everyone');
          await expect
            .poll(() => confirmDialog.textContent(), WAIT)
            .toMatch(/Every login of every user ends now \(\d+ live, yours included\)/);
          expect((await overflow(page)).scrollWidth).toBeLessThanOrEqual(375);
          await page.screenshot({ path: `${ARTIFACTS}/admin-${mode}-logout-everyone-375.png` });
          await confirmDialog.locator('button[value=ok]').click();
          await expect
            .poll(() => page.locator('#login-error').textContent(), WAIT)
            .toMatch(/Logged everyone out: \d+ logins ended/);
          expect(await page.locator('#login').isVisible()).toBe(true);

          // When the admin's own login ends (idle timeout, or ended elsewhere), the next poll says so.
          // Admins sign in with an authenticator app (enrolled at the first sign-in).
          await signInToConsole(page, adminEmail);
          await page.locator('#sessions tr').first().waitFor(WAIT);
          await server.tessera.sessions.revokeAllOfUser(adminId);
          await expect
            .poll(() => page.locator('#login-error').textContent(), WAIT)
            .toMatch(/You were signed out \(after 30 minutes without activity, or your login was ended\)/);

          // The 2-second poll is marked as background (not the admin's activity); the admin's own actions are not.
          expect(polls).toContainEqual({ method: 'GET', path: '/admin/api/sessions', background: true });
          expect(polls.filter((p) => p.method !== 'GET' && p.path !== '/auth/refresh')).not.toHaveLength(0);
          expect(
            polls.filter((p) => p.method !== 'GET' && p.path !== '/auth/refresh' && p.background),
          ).toEqual([]);
          expect(failures).toEqual([]);
        } finally {
          await context.close();
          await server.close();
        }
      }, 120_000);
    }
  },
);
