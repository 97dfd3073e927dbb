import type { Page } from 'playwright-core';
import { PASSWORD } from '../helpers.js';
import { authenticatorOf, nextProof, rememberAuthenticator, stepOf, totpAt } from '../mfa-helpers.js';

const WAIT = { timeout: 15_000 };

/**
 * Signs an admin in to the console as a person would (the browser's clock is the server's:
 * systemRuntime). First time: the console shows the QR code and key; the code is computed from
 * that key with otpauth, then the recovery codes are acknowledged. Later: the next code, or a
 * recovery code once the current steps are spent (a code works once).
 */
export async function signInToConsole(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('#login-form button[type=submit]');
  await page.locator('#mfa-form').waitFor({ state: 'visible', ...WAIT });
  if (authenticatorOf(email)) {
    const proof = nextProof(email, Date.now());
    await page.fill('#mfa-code', 'code' in proof ? proof.code : proof.recoveryCode);
    await page.click('#mfa-form button[type=submit]');
    return;
  }
  await page
    .locator('#mfa-secret')
    .filter({ hasText: /[A-Z2-7]{32}/ })
    .waitFor(WAIT);
  const secret = (await page.locator('#mfa-secret').textContent()) as string;
  const now = Date.now();
  await page.fill('#mfa-code', totpAt(secret, now));
  await page.click('#mfa-form button[type=submit]');
  await page.locator('#recovery').waitFor({ state: 'visible', ...WAIT });
  const codes = await page.locator('#recovery-codes li').allTextContents();
  rememberAuthenticator(email, secret, stepOf(now), codes);
  await page.click('#recovery-done');
}
