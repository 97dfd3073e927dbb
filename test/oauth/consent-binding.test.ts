import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_TICKET_TTL_MS } from '../../src/core/oauth/authorization.js';
import {
  authorizeRequest,
  type Browser,
  consentFields,
  type OAuthServer,
  type RegisteredClient,
  registerClient,
  signIn,
  startOAuthServer,
  submitConsent,
} from './harness.js';

/**
 * The consent answer is bound to the very page the user was shown: a single-use ticket for this
 * login and this authorization request. The anti-CSRF token alone let a form with more scopes,
 * or a replay of an old Allow, through.
 */
let server: OAuthServer;
let browser: Browser;
let rc: RegisteredClient;
beforeAll(async () => {
  server = await startOAuthServer();
  browser = await signIn(server);
  rc = await registerClient(server);
});
afterAll(() => server.close());

/** A consent page for `scope` (prompt=consent, so it is shown every time), as its form fields. */
async function consentPage(scope = 'accounts:read', who = browser) {
  const verifier = oauth.generateRandomCodeVerifier();
  const page = await authorizeRequest(server, who, rc, {
    scope,
    state: oauth.generateRandomState(),
    codeChallenge: await oauth.calculatePKCECodeChallenge(verifier),
    extra: { prompt: 'consent' },
  });
  return consentFields(page);
}

const codeIn = (response: Response) =>
  new URL(response.headers.get('location') ?? 'about:blank').searchParams.get('code');

describe('consent bound to the request shown', () => {
  it('the page carries a ticket, and Allow with it issues a code', async () => {
    const fields = await consentPage();
    expect(fields.consent_ticket).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const allowed = await submitConsent(server, browser, fields, 'approve');
    expect(allowed.status).toBe(303);
    expect(codeIn(allowed)).toBeTruthy();
  });

  it('a form changed after it was shown (a scope added) is refused, and issues no code', async () => {
    const fields = await consentPage('accounts:read');
    const widened = await submitConsent(
      server,
      browser,
      { ...fields, scope: 'accounts:read accounts:write' },
      'approve',
    );
    expect(widened.status).toBe(400);
    expect(widened.headers.get('location')).toBeNull();
    expect(await widened.text()).toMatch(/start again/);
  });

  it('is single use: replaying the same Allow is refused', async () => {
    const fields = await consentPage();
    expect((await submitConsent(server, browser, fields, 'approve')).status).toBe(303);
    const replay = await submitConsent(server, browser, fields, 'approve');
    expect(replay.status).toBe(400);
    expect(codeIn(replay)).toBeNull();
  });

  it('without a ticket, with a forged one, or one shown to another login: refused', async () => {
    const fields = await consentPage();
    const { consent_ticket: _ticket, ...withoutTicket } = fields;
    expect((await submitConsent(server, browser, withoutTicket, 'approve')).status).toBe(400);
    const forged = `${fields.consent_ticket?.split('.')[0]}.${'A'.repeat(43)}`;
    expect(
      (await submitConsent(server, browser, { ...fields, consent_ticket: forged }, 'approve')).status,
    ).toBe(400);
    // The same user signed in on another device: its page's ticket does not answer for this login.
    const otherDevice = await signIn(server, browser.email);
    const otherFields = await consentPage('accounts:read', otherDevice);
    const crossed = await submitConsent(
      server,
      browser,
      { ...fields, consent_ticket: otherFields.consent_ticket as string },
      'approve',
    );
    expect(crossed.status).toBe(400);
  });

  it(`expires after ${CONSENT_TICKET_TTL_MS / 60_000} minutes`, async () => {
    const fields = await consentPage();
    server.clock.advance(CONSENT_TICKET_TTL_MS);
    expect((await submitConsent(server, browser, fields, 'approve')).status).toBe(400);
  });

  it('Deny is bound the same way, and answers the client with access_denied', async () => {
    const fields = await consentPage();
    const denied = await submitConsent(server, browser, fields, 'deny');
    expect(denied.status).toBe(303);
    expect(new URL(denied.headers.get('location') as string).searchParams.get('error')).toBe('access_denied');
    expect((await submitConsent(server, browser, fields, 'deny')).status).toBe(400);
  });
});
