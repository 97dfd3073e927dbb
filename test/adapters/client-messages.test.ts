import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTesseraClient,
  DEFAULT_MESSAGES,
  type LoggedOutEvent,
  type StepUpRequiredEvent,
  TesseraError,
} from '../../src/client/index.js';
import { isErrorCode } from '../../src/core/errors.js';
import { newEmail, PASSWORD, startTessera, type TestServer } from '../helpers.js';
import { totpAt } from '../mfa-helpers.js';

/**
 * What a customer reads from tessera/client: sentences, never raw codes. The SDK runs here in
 * Node against a real Tessera (session mode); a small cookie jar stands in for the browser's.
 */

let server: TestServer;
let tesseraUrl: string;
beforeAll(async () => {
  server = await startTessera();
  tesseraUrl = await server.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => server.close());

/** fetch with one cookie jar, as a browser tab has (attributes ignored: one origin, one test). */
function browserLikeFetch(): typeof fetch {
  const jar = new Map<string, string>();
  return async (input, init) => {
    const request = new Request(input, init);
    const headers = new Headers(request.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(new Request(request, { headers }));
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = cookie.split(';');
      const eq = pair.indexOf('=');
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || eq === pair.length - 1) jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return response;
  };
}

const actor = { actorId: null, client: { ip: '127.0.0.1', userAgent: 'client-messages test' } };

describe('tessera/client tells a person what happened in words', () => {
  it('a refused login: the sentence, with the code and Tessera’s own message kept for developers', async () => {
    const client = createTesseraClient({ baseUrl: tesseraUrl, fetch: browserLikeFetch() });
    const email = newEmail();
    await server.tessera.accounts.register({ email, password: PASSWORD });
    const error = await client.login(email, 'not the password at all').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TesseraError);
    expect(error).toMatchObject({
      code: 'invalid_credentials',
      status: 401,
      message: DEFAULT_MESSAGES.invalid_credentials,
    });
    expect((error as TesseraError).detail).not.toBe((error as TesseraError).message);
    client.close();
  });

  it('after a lock, logged-out carries a sentence that says what may have happened', async () => {
    const client = createTesseraClient({ baseUrl: tesseraUrl, fetch: browserLikeFetch() });
    const email = newEmail();
    const user = await server.tessera.accounts.register({ email, password: PASSWORD });
    await client.login(email, PASSWORD);
    expect((await client.currentUser())?.email).toBe(email);
    const events: LoggedOutEvent[] = [];
    client.on('logged-out', (event) => events.push(event as LoggedOutEvent));

    await server.tessera.control.lockUser(user.id, 'suspected fraud', actor);
    expect(await client.currentUser()).toBeNull();
    expect(events).toHaveLength(1);
    expect(events[0]?.reason).toBe('unauthenticated');
    expect(events[0]?.message).toBe(DEFAULT_MESSAGES.unauthenticated);
    expect(events[0]?.message).toMatch(/locked/);
    expect(events[0]?.message).not.toMatch(/[a-z]+_[a-z]+/);
    client.close();
  });

  it('the sentences can be replaced (another language, another tone); unknown codes get a fallback', async () => {
    const client = createTesseraClient({
      baseUrl: tesseraUrl,
      fetch: browserLikeFetch(),
      messages: { invalid_credentials: 'E-Mail oder Passwort stimmen nicht.' },
    });
    const error = (await client.login(newEmail(), PASSWORD).catch((e: unknown) => e)) as TesseraError;
    expect(error.message).toBe('E-Mail oder Passwort stimmen nicht.');
    expect(client.messageFor('token_revoked')).toBe(DEFAULT_MESSAGES.token_revoked);
    expect(client.messageFor('some_future_code', 'Tessera said so.')).toBe('Tessera said so.');
    expect(client.messageFor('some_future_code')).toMatch(/^Something went wrong/);
    client.close();
  });

  it('every reason a login can end for has a sentence, and every sentence is for a real code', () => {
    for (const reason of [
      'logout',
      'unauthenticated',
      'token_revoked',
      'token_expired',
      'token_reused',
      'invalid_refresh_token',
    ]) {
      expect(DEFAULT_MESSAGES[reason], reason).toBeTypeOf('string');
    }
    for (const code of Object.keys(DEFAULT_MESSAGES)) {
      expect(code === 'logout' || isErrorCode(code), code).toBe(true);
    }
  });
});

describe('tessera/client and second factors', () => {
  it('login → mfaRequired → verifySecondFactor; a stale proof fires step-up-required (not a logout); reauthenticate cures it', async () => {
    const client = createTesseraClient({ baseUrl: tesseraUrl, fetch: browserLikeFetch() });
    const email = newEmail();
    await server.tessera.accounts.register({ email, password: PASSWORD });
    expect(await client.login(email, PASSWORD)).toMatchObject({ session: { amr: ['pwd'] } });
    const begin = await client.fetch(`${tesseraUrl}/auth/mfa/totp`, { method: 'POST' });
    const { secret } = (await begin.json()) as { secret: string };
    const confirm = await client.fetch(`${tesseraUrl}/auth/mfa/totp/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: totpAt(secret, server.clock.now()) }),
    });
    expect(confirm.status).toBe(200);
    await client.logout();

    expect(await client.login(email, PASSWORD)).toEqual({
      mfaRequired: true,
      methods: ['totp', 'recovery_code'],
    });
    const wrong = await client.verifySecondFactor({ code: '000000' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'mfa_code_invalid', message: DEFAULT_MESSAGES.mfa_code_invalid });
    server.clock.advance(30_000);
    const opened = await client.verifySecondFactor({ code: totpAt(secret, server.clock.now()) });
    expect(opened).toMatchObject({ session: { amr: ['mfa', 'otp', 'pwd'] } });

    const events: string[] = [];
    client.on('logged-out', () => events.push('logged-out'));
    client.on('step-up-required', (event) => {
      const { maxAgeSeconds, message } = event as StepUpRequiredEvent;
      events.push(`step-up-required ${maxAgeSeconds} ${message}`);
    });
    server.clock.advance(6 * 60_000);
    const regenerate = () => client.fetch(`${tesseraUrl}/auth/mfa/recovery-codes`, { method: 'POST' });
    expect((await regenerate()).status).toBe(401);
    expect(events).toEqual([`step-up-required 300 ${DEFAULT_MESSAGES.step_up_required}`]);
    expect(await client.currentUser()).toMatchObject({ email });
    expect(await client.reauthenticate({ code: totpAt(secret, server.clock.now()) })).toMatchObject({
      amr: ['otp'],
    });
    expect((await regenerate()).status).toBe(200);
    client.close();
  });
});
