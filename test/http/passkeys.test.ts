import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CLIENT } from '../../src/core/audit.js';
import { DEFAULT_RATE_LIMITS } from '../../src/http/plugins/rate-limit.js';
import { newEmail, PASSWORD, post, sessionCookieOf, startTessera, type TestServer } from '../helpers.js';
import { SoftAuthenticator } from '../passkeys/soft-authenticator.js';

/**
 * Passkeys over HTTP with a software authenticator (test/passkeys/soft-authenticator.ts, real
 * ES256 signatures): registration, usernameless login in every mode, and everything that must
 * be refused with a 4xx and a stable code (never a 500): replays, other origins and RP ids,
 * challenges for something else, a cloned key's counter, malformed responses.
 */

// startTessera's default issuer is http://localhost:3000: RP id localhost, that one origin.
const ORIGIN = 'http://localhost:3000';
const RP_ID = 'localhost';

type Json = Record<string, unknown>;

async function bearerLogin(app: FastifyInstance, email = newEmail()) {
  await post(app, '/auth/register', { email, password: PASSWORD });
  const login = await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
  const body = login.json();
  return {
    email,
    userId: body.user.id as string,
    headers: { authorization: `Bearer ${body.token ?? body.accessToken}` },
  };
}

async function registerPasskey(
  app: FastifyInstance,
  headers: Record<string, string>,
  authenticator = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID }),
  name?: string,
) {
  const options = (await post(app, '/auth/passkeys/register/options', {}, headers)).json();
  const response = authenticator.register(options);
  const registered = await post(
    app,
    '/auth/passkeys/register',
    { response, ...(name ? { name } : {}) },
    headers,
  );
  return { authenticator, registered, options };
}

const loginOptions = async (app: FastifyInstance): Promise<Json> =>
  (await post(app, '/auth/passkeys/login/options', {})).json();

for (const mode of ['session', 'jwt', 'hybrid'] as const) {
  describe(`passkeys over HTTP, ${mode} mode`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTessera({ env: { TESSERA_MODE: mode } });
    });
    afterAll(() => server.close());

    it('registers a passkey and signs in with it alone (usernameless), by cookie and by bearer token', async () => {
      const { app } = server;
      const { headers, userId, email } = await bearerLogin(app);
      const { authenticator, registered, options } = await registerPasskey(app, headers, undefined, 'Laptop');
      expect(registered.statusCode, registered.body).toBe(201);
      expect(registered.json().passkey).toMatchObject({
        name: 'Laptop',
        deviceType: 'singleDevice',
        backupEligible: false,
      });
      // The creation options: discoverable, user verification required, the user handle opaque.
      expect(options).toMatchObject({ rp: { id: RP_ID }, user: { name: email } });
      expect(options.authenticatorSelection).toMatchObject({
        residentKey: 'required',
        userVerification: 'required',
      });
      expect(Buffer.from(options.user.id, 'base64url').toString()).toBe(userId);

      const cookie = await post(app, '/auth/passkeys/login', {
        response: authenticator.assert(await loginOptions(app)),
      });
      expect(cookie.statusCode, cookie.body).toBe(200);
      expect(cookie.json().user).toMatchObject({ id: userId, email });
      expect(cookie.json().session.mode).toBe(mode === 'session' ? 'session' : mode);
      const cookies = cookie.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
      if (mode === 'session') expect(sessionCookieOf(cookie)).toBeTruthy();
      const session = await app.inject({ method: 'GET', url: '/auth/session', headers: { cookie: cookies } });
      expect(session.statusCode, session.body).toBe(200);
      expect(session.json().user.id).toBe(userId);
      // RFC 8176: a device-bound key (hwk) and a verified user; a passkey alone is aal2.
      expect(session.json()).toMatchObject({ session: { amr: ['hwk', 'user'], acr: 'aal2' } });

      const bearer = await post(app, '/auth/passkeys/login', {
        response: authenticator.assert(await loginOptions(app)),
        transport: 'bearer',
      });
      expect(bearer.statusCode, bearer.body).toBe(200);
      const token = bearer.json().token ?? bearer.json().accessToken;
      expect(typeof token).toBe('string');
      if (mode !== 'session') expect(typeof bearer.json().refreshToken).toBe('string');
      const me = await app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.json().user.id).toBe(userId);

      // A synced passkey (backup-eligible) proves swk instead.
      const synced = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, backupEligible: true });
      const second = await registerPasskey(app, headers, synced);
      expect(second.registered.json().passkey).toMatchObject({
        deviceType: 'multiDevice',
        backupEligible: true,
        backedUp: true,
      });
      const viaSynced = await post(app, '/auth/passkeys/login', {
        response: synced.assert(await loginOptions(app)),
        transport: 'bearer',
      });
      const syncedToken = viaSynced.json().token ?? viaSynced.json().accessToken;
      const syncedSession = await app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: { authorization: `Bearer ${syncedToken}` },
      });
      expect(syncedSession.json()).toMatchObject({ session: { amr: ['swk', 'user'], acr: 'aal2' } });

      const listed = (await app.inject({ method: 'GET', url: '/auth/passkeys', headers })).json().passkeys;
      expect(listed).toHaveLength(2);
      expect(listed[0].lastUsedAt).not.toBeNull();
      expect(JSON.stringify(listed)).not.toContain(authenticator.id);
    });
  });
}

describe('passkeys over HTTP: what is refused', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTessera();
  });
  afterAll(() => server.close());

  const expectError = (response: { statusCode: number; json(): Json }, status: number, code: string) => {
    expect(response.statusCode).toBe(status);
    expect(response.json().error).toBe(code);
  };

  it('a replayed assertion (the same challenge twice) is refused; so is a challenge past 5 minutes', async () => {
    const { app, clock } = server;
    const { headers } = await bearerLogin(app);
    const { authenticator } = await registerPasskey(app, headers);
    const response = authenticator.assert(await loginOptions(app));
    expect((await post(app, '/auth/passkeys/login', { response })).statusCode).toBe(200);
    expectError(await post(app, '/auth/passkeys/login', { response }), 401, 'passkey_challenge_invalid');

    const late = authenticator.assert(await loginOptions(app));
    clock.advance(5 * 60_000 + 1);
    expectError(
      await post(app, '/auth/passkeys/login', { response: late }),
      401,
      'passkey_challenge_invalid',
    );
  });

  it('an assertion signed for another origin (a phishing page) or another RP id is refused', async () => {
    const { app } = server;
    const { headers } = await bearerLogin(app);
    const { authenticator } = await registerPasskey(app, headers);
    const phished = authenticator.assert(await loginOptions(app), { origin: 'https://bank-login.example' });
    expectError(await post(app, '/auth/passkeys/login', { response: phished }), 401, 'passkey_invalid');
    const otherRp = authenticator.assert(await loginOptions(app), { rpId: 'evil.example' });
    expectError(await post(app, '/auth/passkeys/login', { response: otherRp }), 401, 'passkey_invalid');
    const wrongType = authenticator.assert(await loginOptions(app), { type: 'webauthn.create' });
    expectError(await post(app, '/auth/passkeys/login', { response: wrongType }), 401, 'passkey_invalid');
    // Registration from another origin too.
    const options = (await post(app, '/auth/passkeys/register/options', {}, headers)).json();
    const other = new SoftAuthenticator({ origin: 'https://bank-login.example', rpId: RP_ID });
    expectError(
      await post(app, '/auth/passkeys/register', { response: other.register(options) }, headers),
      400,
      'passkey_registration_invalid',
    );
  });

  it('a tampered clientDataJSON or signature is refused (the signature covers them)', async () => {
    const { app } = server;
    const { headers } = await bearerLogin(app);
    const { authenticator } = await registerPasskey(app, headers);
    const options = await loginOptions(app);
    const response = authenticator.assert(options);
    const clientData = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString());
    const tampered = {
      ...response,
      response: {
        ...response.response,
        clientDataJSON: Buffer.from(JSON.stringify({ ...clientData, origin: ORIGIN, extra: 1 })).toString(
          'base64url',
        ),
      },
    };
    expectError(await post(app, '/auth/passkeys/login', { response: tampered }), 401, 'passkey_invalid');
    const badSignature = authenticator.assert(await loginOptions(app));
    badSignature.response.signature = Buffer.from('not a signature').toString('base64url');
    expectError(await post(app, '/auth/passkeys/login', { response: badSignature }), 401, 'passkey_invalid');
  });

  it('a passwordless login without user verification is refused; an unknown credential too', async () => {
    const { app } = server;
    const { headers } = await bearerLogin(app);
    const { authenticator } = await registerPasskey(app, headers);
    const noUv = authenticator.assert(await loginOptions(app), { userVerified: false });
    expectError(await post(app, '/auth/passkeys/login', { response: noUv }), 401, 'passkey_invalid');
    const stranger = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
    const unknown = stranger.assert(await loginOptions(app));
    expectError(await post(app, '/auth/passkeys/login', { response: unknown }), 401, 'passkey_invalid');
  });

  it('a challenge is bound to its purpose, its user and its login: none is accepted for another', async () => {
    const { app } = server;
    const alice = await bearerLogin(app);
    const bob = await bearerLogin(app);
    const { authenticator } = await registerPasskey(app, alice.headers);
    // A registration challenge answered as a login.
    const registration = (await post(app, '/auth/passkeys/register/options', {}, alice.headers)).json();
    const asLogin = authenticator.assert(registration);
    expectError(
      await post(app, '/auth/passkeys/login', { response: asLogin }),
      401,
      'passkey_challenge_invalid',
    );
    // Bob's registration challenge used to register on Alice's account.
    const bobs = (await post(app, '/auth/passkeys/register/options', {}, bob.headers)).json();
    const fresh = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
    expectError(
      await post(app, '/auth/passkeys/register', { response: fresh.register(bobs) }, alice.headers),
      401,
      'passkey_challenge_invalid',
    );
    // A challenge never issued.
    const forged = authenticator.assert({ challenge: Buffer.alloc(32, 7).toString('base64url') });
    expectError(
      await post(app, '/auth/passkeys/login', { response: forged }),
      401,
      'passkey_challenge_invalid',
    );
  });

  it('a counter that goes back (a cloned key) is refused and audited as passkey.clone_detected', async () => {
    const { app, tessera } = server;
    const { headers, userId } = await bearerLogin(app);
    const counting = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, counting: true });
    await registerPasskey(app, headers, counting);
    expect(
      (await post(app, '/auth/passkeys/login', { response: counting.assert(await loginOptions(app)) }))
        .statusCode,
    ).toBe(200);
    expect(
      (await post(app, '/auth/passkeys/login', { response: counting.assert(await loginOptions(app)) }))
        .statusCode,
    ).toBe(200);
    const clone = counting.assert(await loginOptions(app), { counter: 2 });
    expectError(await post(app, '/auth/passkeys/login', { response: clone }), 401, 'passkey_invalid');
    const events = await tessera.stores.audit.listAuditEvents({ userId, limit: 50 });
    const alarm = events.find((e) => e.type === 'passkey.clone_detected');
    expect(alarm && JSON.parse(alarm.detail)).toMatchObject({ storedCounter: 3, presentedCounter: 2 });
    // The real key, counting on, still signs in.
    expect(
      (await post(app, '/auth/passkeys/login', { response: counting.assert(await loginOptions(app)) }))
        .statusCode,
    ).toBe(200);
  });

  it('a locked account cannot sign in with its passkey (the same answer as a wrong one)', async () => {
    const { app, tessera } = server;
    const { headers, userId } = await bearerLogin(app);
    const { authenticator } = await registerPasskey(app, headers);
    await tessera.control.lockUser(userId, 'card stolen', { actorId: null, client: CLI_CLIENT });
    expectError(
      await post(app, '/auth/passkeys/login', { response: authenticator.assert(await loginOptions(app)) }),
      401,
      'passkey_invalid',
    );
  });

  it('names, renames and removes passkeys; another user sees 404 for ids that are not theirs', async () => {
    const { app } = server;
    const alice = await bearerLogin(app);
    const bob = await bearerLogin(app);
    const { registered, authenticator } = await registerPasskey(app, alice.headers);
    const id = registered.json().passkey.id as string;
    expect(registered.json().passkey.name).toBe('Passkey 1');
    const rename = (name: unknown, headers = alice.headers, target = id) =>
      app.inject({ method: 'PATCH', url: `/auth/passkeys/${target}`, payload: { name }, headers });
    expect((await rename('  Work laptop ')).json().passkey.name).toBe('Work laptop');
    expectError(await rename(''), 400, 'invalid_request');
    expectError(await rename('two\nlines'), 400, 'invalid_request');
    expectError(await rename('x'.repeat(65)), 400, 'invalid_request');
    expectError(await rename('mine now', bob.headers), 404, 'passkey_not_found');
    expectError(await rename('x', alice.headers, 'not-an-id'), 404, 'passkey_not_found');
    const remove = (headers: Record<string, string>, target = id) =>
      app.inject({ method: 'DELETE', url: `/auth/passkeys/${target}`, headers });
    expectError(await remove(bob.headers), 404, 'passkey_not_found');
    expect((await remove(alice.headers)).statusCode).toBe(204);
    expectError(await remove(alice.headers), 404, 'passkey_not_found');
    // Removed: it signs in no more.
    expectError(
      await post(app, '/auth/passkeys/login', { response: authenticator.assert(await loginOptions(app)) }),
      401,
      'passkey_invalid',
    );
    // The same authenticator may be registered again; twice is refused.
    const again = await registerPasskey(app, alice.headers, authenticator);
    expect(again.registered.statusCode).toBe(201);
    const options = (await post(app, '/auth/passkeys/register/options', {}, alice.headers)).json();
    expect(options.excludeCredentials.map((c: Json) => c.id)).toEqual([authenticator.id]);
    expectError(
      await post(
        app,
        '/auth/passkeys/register',
        { response: authenticator.register(options) },
        alice.headers,
      ),
      409,
      'passkey_exists',
    );
  });

  it('every passkey route but the ways in needs a login', async () => {
    const { app } = server;
    for (const [method, url] of [
      ['POST', '/auth/passkeys/register/options'],
      ['POST', '/auth/passkeys/register'],
      ['GET', '/auth/passkeys'],
      ['PATCH', '/auth/passkeys/AAAAAAAAAAAAAAAAAAAAAA'],
      ['DELETE', '/auth/passkeys/AAAAAAAAAAAAAAAAAAAAAA'],
    ] as const) {
      expectError(await app.inject({ method, url, payload: {} }), 401, 'unauthenticated');
    }
  });

  it('malformed responses are 400 invalid_request or a passkey code, never a 500', async () => {
    const { app } = server;
    const { headers } = await bearerLogin(app);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
    const valid = authenticator.assert(await loginOptions(app));
    const junk = 'x'.repeat(5000);
    const bodies: unknown[] = [
      {},
      null,
      [],
      'text',
      { response: null },
      { response: {} },
      { response: { ...valid, type: 'password' } },
      { response: { ...valid, id: 'has spaces' } },
      { response: { ...valid, id: junk } },
      { response: { ...valid, response: { ...valid.response, signature: 123 } } },
      { response: { ...valid, response: { ...valid.response, clientDataJSON: '===' } } },
      { response: { ...valid, response: { ...valid.response, userHandle: junk } } },
      { response: valid, transport: 'carrier-pigeon' },
      { response: valid, extra: true },
      { response: { ...valid, clientExtensionResults: 'no' } },
    ];
    for (const body of bodies) {
      const answer = await app.inject({
        method: 'POST',
        url: '/auth/passkeys/login',
        payload: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      expect(answer.statusCode, JSON.stringify(body).slice(0, 100)).toBe(400);
      expect(answer.json().error).toMatch(/^(invalid_request|bad_request|malformed_json)$/);
    }
    // Well-formed base64url that is no clientDataJSON, or a clientDataJSON without our challenge.
    const notJson = { ...valid, response: { ...valid.response, clientDataJSON: 'AAAA' } };
    expectError(
      await post(app, '/auth/passkeys/login', { response: notJson }),
      401,
      'passkey_challenge_invalid',
    );
    // Well-formed, right challenge, garbage everywhere else.
    const options = await loginOptions(app);
    const garbage = authenticator.assert(options);
    garbage.response.authenticatorData = 'AAAA';
    expectError(await post(app, '/auth/passkeys/login', { response: garbage }), 401, 'passkey_invalid');
    // Registration: garbage attestation under a real challenge, and shapes that are not one.
    const creation = (await post(app, '/auth/passkeys/register/options', {}, headers)).json();
    const registration = authenticator.register(creation);
    registration.response.attestationObject = 'oWNmbXRkbm9uZQ';
    expectError(
      await post(app, '/auth/passkeys/register', { response: registration }, headers),
      400,
      'passkey_registration_invalid',
    );
    for (const body of [
      {},
      { response: valid },
      { response: registration, name: 5 },
      { response: registration, name: '' },
    ]) {
      expectError(await post(app, '/auth/passkeys/register', body, headers), 400, 'invalid_request');
    }
  });
});

describe('passkeys are off when no relying party can be derived', () => {
  it('answers 409 passkeys_unavailable with an IP-address issuer and no TESSERA_WEBAUTHN_RP_ID', async () => {
    const server = await startTessera({ env: { TESSERA_ISSUER: 'http://127.0.0.1:3000' } });
    try {
      const answer = await post(server.app, '/auth/passkeys/login/options', {});
      expect(answer.statusCode).toBe(409);
      expect(answer.json().error).toBe('passkeys_unavailable');
    } finally {
      await server.close();
    }
  });
});

describe('passkey logins count against the login limits', () => {
  it('refused passkey logins from one IP back off to 429 rate_limited; another IP is not affected', async () => {
    const ip = {
      free: 3,
      baseSeconds: 60,
      maxSeconds: 3600,
      windowSeconds: 3600,
      onSuccess: 'refund' as const,
    };
    const policy = { ...DEFAULT_RATE_LIMITS, login: { ...DEFAULT_RATE_LIMITS.login, ip } };
    const server = await startTessera({ env: { TESSERA_RATE_LIMIT: 'on' }, app: { rateLimits: { policy } } });
    try {
      const { app } = server;
      const stranger = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
      const attempt = async (remoteAddress: string) =>
        app.inject({
          method: 'POST',
          url: '/auth/passkeys/login',
          remoteAddress,
          payload: { response: stranger.assert(await loginOptions(app)) },
        });
      // free: 3 failures, then the attempt that exceeds them, then backoff.
      for (let i = 0; i < 4; i++) expect((await attempt('203.0.113.5')).json().error).toBe('passkey_invalid');
      const blocked = await attempt('203.0.113.5');
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json().error).toBe('rate_limited');
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect((await attempt('198.51.100.7')).json().error).toBe('passkey_invalid');
    } finally {
      await server.close();
    }
  });
});

describe('a passkey does not prove the email address', () => {
  it('TESSERA_REQUIRE_VERIFIED_EMAIL=on: a passkey login of an unproven address is 403 email_unverified', async () => {
    const server = await startTessera({ env: { TESSERA_REQUIRE_VERIFIED_EMAIL: 'on' } });
    try {
      const { app, tessera } = server;
      const email = newEmail();
      const user = await tessera.accounts.register({ email, password: PASSWORD });
      // The login route would refuse this account, so its passkey is registered through core.
      const authenticator = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
      const creation = await tessera.passkeys.registrationOptions(user, 'operator');
      await tessera.passkeys.register(user, authenticator.register(creation) as never, 'Key', 'operator');
      const answer = await post(app, '/auth/passkeys/login', {
        response: authenticator.assert(await loginOptions(app)),
      });
      expect(answer.statusCode).toBe(403);
      expect(answer.json().error).toBe('email_unverified');
    } finally {
      await server.close();
    }
  });
});

describe('passkey login challenges are limited per IP', () => {
  it('POST /auth/passkeys/login/options: after the free draws, 429 with Retry-After; another IP draws on', async () => {
    const ip = { free: 2, baseSeconds: 10, maxSeconds: 600, windowSeconds: 600, onSuccess: 'keep' as const };
    const policy = { ...DEFAULT_RATE_LIMITS, challenge: { ip, account: ip } };
    const server = await startTessera({ env: { TESSERA_RATE_LIMIT: 'on' }, app: { rateLimits: { policy } } });
    try {
      const draw = (remoteAddress: string) =>
        server.app.inject({
          method: 'POST',
          url: '/auth/passkeys/login/options',
          payload: {},
          remoteAddress,
        });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await draw('203.0.113.9')).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect((await draw('198.51.100.1')).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});
