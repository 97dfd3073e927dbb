import type { LightMyRequestResponse } from 'fastify';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/http/credentials.js';
import { MFA_CHALLENGE_COOKIE } from '../../src/http/routes/login-answer.js';
import { csrfFor, newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { authenticatorOf, loginWithSecondFactor, stepOf, totpAt } from '../mfa-helpers.js';

type Mode = 'session' | 'jwt' | 'hybrid';
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
});

async function start(mode: Mode, env: Record<string, string> = {}) {
  // Access tokens outlive the 5-minute step-up age here, so a stale proof is tested, not an expired token.
  const server = await startTessera({ env: { TESSERA_MODE: mode, TESSERA_ACCESS_TOKEN_TTL: '1h', ...env } });
  servers.push(server);
  return server;
}

const bearerOf = (answer: LightMyRequestResponse) => ({
  authorization: `Bearer ${answer.json().token ?? answer.json().accessToken}`,
});

/** A registered user, logged in with a bearer credential (password only). */
async function customer(server: TestServer, roles: string[] = []) {
  const email = newEmail();
  await server.tessera.accounts.register({ email, password: PASSWORD }, roles);
  const login = await post(server.app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
  expect(login.statusCode, login.body).toBe(200);
  return {
    email,
    userId: login.json().user.id as string,
    headers: bearerOf(login),
    refreshToken: login.json().refreshToken as string | undefined,
  };
}

/** Enrols an authenticator app through the API with a real code; returns the secret and recovery codes. */
async function enrol(server: TestServer, headers: Record<string, string>) {
  const begin = await server.app.inject({ method: 'POST', url: '/auth/mfa/totp', headers });
  expect(begin.statusCode, begin.body).toBe(200);
  const { secret, uri, qrSvg } = begin.json();
  const confirm = await server.app.inject({
    method: 'POST',
    url: '/auth/mfa/totp/confirm',
    headers,
    payload: { code: totpAt(secret, server.clock.now()) },
  });
  expect(confirm.statusCode, confirm.body).toBe(200);
  return { secret, uri, qrSvg, recoveryCodes: confirm.json().recoveryCodes as string[] };
}

/** The access token's claims as jose (an independent verifier) reads them with the published keys. */
async function verifiedClaims(server: TestServer, accessToken: string) {
  const { keys } = (await server.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
  const { payload } = await jwtVerify(accessToken, createLocalJWKSet({ keys }), {
    issuer: server.tessera.config.jwt.issuer,
    audience: server.tessera.config.jwt.audience,
    currentDate: new Date(server.clock.now()),
  });
  return payload;
}

describe.each<Mode>(['session', 'jwt', 'hybrid'])('second factors in %s mode', (mode) => {
  it('enrols an authenticator app (otpauth URI, SVG QR code, pending until a code confirms it), then logins need it', async () => {
    const server = await start(mode);
    const { app } = server;
    const alice = await customer(server);
    const pending = await app.inject({ method: 'POST', url: '/auth/mfa/totp', headers: alice.headers });
    expect(pending.statusCode).toBe(200);
    const { secret, uri, qrSvg } = pending.json();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(uri).toMatch(/^otpauth:\/\/totp\/.+\?.*secret=[A-Z2-7]{32}/);
    expect(qrSvg).toMatch(/^<svg[\s\S]*<\/svg>$/);
    // Pending: a login still needs only the password, and the status says so.
    const status = await app.inject({ method: 'GET', url: '/auth/mfa', headers: alice.headers });
    expect(status.json()).toMatchObject({ methods: [], totp: { enrolled: false, pending: true } });
    expect(JSON.stringify(status.json())).not.toContain(secret);
    // A wrong first code leaves it pending.
    const wrong = await app.inject({
      method: 'POST',
      url: '/auth/mfa/totp/confirm',
      headers: alice.headers,
      payload: { code: totpAt(secret, server.clock.now() + 120_000) },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe('mfa_code_invalid');
    const confirm = await app.inject({
      method: 'POST',
      url: '/auth/mfa/totp/confirm',
      headers: alice.headers,
      payload: { code: totpAt(secret, server.clock.now()) },
    });
    expect(confirm.statusCode, confirm.body).toBe(200);
    const { recoveryCodes } = confirm.json();
    expect(recoveryCodes).toHaveLength(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{5}-[0-9a-z]{5}$/);
    expect(new Set(recoveryCodes).size).toBe(10);
    const enrolled = await app.inject({ method: 'GET', url: '/auth/mfa', headers: alice.headers });
    expect(enrolled.json()).toMatchObject({
      methods: ['totp', 'recovery_code'],
      totp: { enrolled: true, pending: false },
      recoveryCodes: { remaining: 10 },
    });
    // Sealed at rest: the database holds no secret, recovery code or challenge in the clear.
    const again = await app.inject({ method: 'POST', url: '/auth/mfa/totp', headers: alice.headers });
    expect(again.json().error).toBe('mfa_already_enrolled');

    // A cookie login now answers with a challenge, not a login.
    const login = await post(app, '/auth/login', { email: alice.email, password: PASSWORD });
    expect(login.statusCode).toBe(200);
    expect(login.json()).toEqual({ mfaRequired: true, methods: ['totp', 'recovery_code'] });
    expect(login.cookies.map((c) => c.name)).toEqual([MFA_CHALLENGE_COOKIE]);
    const challenge = login.cookies[0];
    expect(challenge).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: 300,
    });
    // The challenge opens nothing but the second step.
    const peek = await app.inject({
      method: 'GET',
      url: '/auth/session',
      headers: { cookie: `${MFA_CHALLENGE_COOKIE}=${challenge?.value}` },
    });
    expect(peek.statusCode).toBe(401);
    const cookie = { cookie: `${MFA_CHALLENGE_COOKIE}=${challenge?.value}` };
    const bad = await post(app, '/auth/mfa/verify', { code: '000000' }, cookie);
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error).toBe('mfa_code_invalid');
    server.clock.advance(30_000);
    const code = totpAt(secret, server.clock.now());
    const verified = await post(app, '/auth/mfa/verify', { code }, cookie);
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toMatchObject({
      user: { id: alice.userId },
      session: {
        amr: ['mfa', 'otp', 'pwd'],
        acr: 'aal2',
        authTime: new Date(server.clock.now()).toISOString(),
      },
    });
    // The challenge cookie is cleared; the mode's credential cookie set.
    expect(verified.cookies.find((c) => c.name === MFA_CHALLENGE_COOKIE)?.value).toBe('');
    expect(
      verified.cookies.some((c) => c.name === (mode === 'session' ? SESSION_COOKIE : '__Host-tessera_at')),
    ).toBe(true);
    // Single use: the same challenge (and the same code) never opens a second login.
    const replayed = await post(app, '/auth/mfa/verify', { code }, cookie);
    expect(replayed.json().error).toBe('mfa_challenge_invalid');
    const secondLogin = await post(app, '/auth/login', {
      email: alice.email,
      password: PASSWORD,
      transport: 'bearer',
    });
    const reused = await post(app, '/auth/mfa/verify', { code, mfaToken: secondLogin.json().mfaToken });
    expect(reused.statusCode).toBe(401);
    expect(reused.json().error).toBe('mfa_code_invalid');
    expect(recoveryCodes).toBeDefined();
  });

  it('bearer clients get mfaToken; the login carries amr/auth_time/acr to /auth/session and (jwt, hybrid) to access tokens, checked with jose', async () => {
    const server = await start(mode);
    const { app } = server;
    const alice = await customer(server);
    const { secret } = await enrol(server, alice.headers);
    server.clock.advance(60_000);
    const login = await post(app, '/auth/login', {
      email: alice.email,
      password: PASSWORD,
      transport: 'bearer',
    });
    expect(login.json()).toEqual({
      mfaRequired: true,
      methods: ['totp', 'recovery_code'],
      mfaToken: expect.any(String),
    });
    expect(login.cookies).toEqual([]);
    const { mfaToken } = login.json();
    const verified = await post(app, '/auth/mfa/verify', {
      code: totpAt(secret, server.clock.now()),
      mfaToken,
    });
    expect(verified.statusCode, verified.body).toBe(200);
    const session = await app.inject({ method: 'GET', url: '/auth/session', headers: bearerOf(verified) });
    expect(session.json().session).toMatchObject({
      amr: ['mfa', 'otp', 'pwd'],
      acr: 'aal2',
      authTime: new Date(server.clock.now()).toISOString(),
    });
    if (mode !== 'session') {
      const claims = await verifiedClaims(server, verified.json().accessToken);
      expect(claims).toMatchObject({
        amr: ['mfa', 'otp', 'pwd'],
        acr: 'aal2',
        auth_time: Math.floor(server.clock.now() / 1000),
      });
      // A password login's token says so: the app can tell the two apart.
      const bob = await customer(server);
      const plain = await verifiedClaims(server, bob.headers.authorization.slice(7));
      expect(plain).toMatchObject({ amr: ['pwd'], acr: 'aal1' });
    }
  });

  it('recovery codes: each works once, is audited and mailed; regenerating kills the old ones', async () => {
    const server = await start(mode);
    const { app } = server;
    const alice = await customer(server);
    const { recoveryCodes } = await enrol(server, alice.headers);
    const [first, second] = recoveryCodes as [string, string];
    const loginToken = async () =>
      (await post(app, '/auth/login', { email: alice.email, password: PASSWORD, transport: 'bearer' })).json()
        .mfaToken as string;
    // Typed sloppily (upper case, no dash): still the code.
    const used = await post(app, '/auth/mfa/verify', {
      recoveryCode: first.toUpperCase().replace('-', ' '),
      mfaToken: await loginToken(),
    });
    expect(used.statusCode, used.body).toBe(200);
    expect(used.json().session.amr).toEqual(['mfa', 'otp', 'pwd']);
    const again = await post(app, '/auth/mfa/verify', { recoveryCode: first, mfaToken: await loginToken() });
    expect(again.statusCode).toBe(401);
    expect(again.json().error).toBe('mfa_code_invalid');
    const audit = await server.tessera.audit.list({ userId: alice.userId, type: 'mfa.recovery_code_used' });
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]?.detail ?? '{}')).toEqual({ remaining: 9 });
    const outbox = await server.tessera.email.stores.outbox.listMail({ limit: 50 });
    expect(outbox.filter((m) => m.kind === 'mfa_notice' && m.to === alice.email)).toHaveLength(1);
    const status = await app.inject({ method: 'GET', url: '/auth/mfa', headers: alice.headers });
    expect(status.json().recoveryCodes).toEqual({ remaining: 9 });

    const fresh = await app.inject({
      method: 'POST',
      url: '/auth/mfa/recovery-codes',
      headers: alice.headers,
    });
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect(fresh.json().recoveryCodes).toHaveLength(10);
    const old = await post(app, '/auth/mfa/verify', { recoveryCode: second, mfaToken: await loginToken() });
    expect(old.json().error).toBe('mfa_code_invalid');
  });

  it('bad input: malformed, expired and foreign challenges and codes are clear 4xx, counted, and change nothing; then 429', async () => {
    const server = await start(mode);
    const { app } = server;
    const alice = await customer(server);
    const { secret } = await enrol(server, alice.headers);
    const bob = await customer(server);
    await enrol(server, bob.headers);
    const tokenOf = async (email: string) =>
      (await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })).json()
        .mfaToken as string;
    const aliceToken = await tokenOf(alice.email);
    // Shapes refused before anything is checked (400, not counted as a code).
    for (const body of [
      { code: '123456' },
      { mfaToken: aliceToken },
      { code: '123456', recoveryCode: 'abcde-fghij', mfaToken: aliceToken },
      { code: '123456', mfaToken: aliceToken, extra: 1 },
      { code: '123456', mfaToken: 42 },
    ]) {
      const response = await post(app, '/auth/mfa/verify', body);
      expect([400, 401], JSON.stringify(body)).toContain(response.statusCode);
      expect(['invalid_request', 'mfa_challenge_invalid']).toContain(response.json().error);
    }
    for (const mfaToken of [
      '',
      'x',
      `${aliceToken}x`,
      aliceToken.replace(/\.(.)/, (_, c: string) => (c === 'A' ? '.B' : '.A')),
    ]) {
      const response = await post(app, '/auth/mfa/verify', {
        code: totpAt(secret, server.clock.now()),
        mfaToken,
      });
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toBe('mfa_challenge_invalid');
    }
    // Bob's challenge with Alice's code: it is Bob's login, and Alice's code is wrong for Bob.
    const bobToken = await tokenOf(bob.email);
    const crossed = await post(app, '/auth/mfa/verify', {
      code: totpAt(secret, server.clock.now()),
      mfaToken: bobToken,
    });
    expect(crossed.statusCode).toBe(401);
    expect(crossed.json().error).toBe('mfa_code_invalid');
    // Malformed and wrong codes: 401, counted against Alice's account.
    for (const code of ['12345', 'abcdef', '1234567', '000000']) {
      const response = await post(app, '/auth/mfa/verify', { code, mfaToken: aliceToken });
      expect(response.statusCode, code).toBe(401);
      expect(response.json().error).toBe('mfa_code_invalid');
    }
    // Five failures are free; the sixth backs off (1 s, then 2 s, …): even the right code waits.
    for (const code of ['111111', '222222']) {
      const response = await post(app, '/auth/mfa/verify', { code, mfaToken: aliceToken });
      expect(response.statusCode).toBe(401);
    }
    const blocked = await post(app, '/auth/mfa/verify', {
      code: totpAt(secret, server.clock.now()),
      mfaToken: aliceToken,
    });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error).toBe('rate_limited');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Nothing changed: no login was opened for Alice, and Bob's account is not held back.
    expect(await server.tessera.sessions.listOfUser(alice.userId)).toHaveLength(1);
    // After the wait, the right code opens the login and the count starts afresh.
    // (The confirming code's step is spent: the next code is the next step's, 30 s later.)
    server.clock.advance(30_000);
    const ok = await post(app, '/auth/mfa/verify', {
      code: totpAt(secret, server.clock.now()),
      mfaToken: aliceToken,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await server.tessera.stores.users.findUserById(alice.userId)).toBeDefined();
    // An expired challenge (5 minutes) is refused even with a right code.
    const late = await tokenOf(alice.email);
    server.clock.advance(5 * 60_000);
    const expired = await post(app, '/auth/mfa/verify', {
      code: totpAt(secret, server.clock.now()),
      mfaToken: late,
    });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error).toBe('mfa_challenge_invalid');
  });

  it('step-up: POST /auth/reauthenticate refreshes auth_time/amr on the same login and reissues its credential', async () => {
    const server = await start(mode);
    const { app } = server;
    const alice = await customer(server);
    const { secret } = await enrol(server, alice.headers);
    const sessionId = (
      await app.inject({ method: 'GET', url: '/auth/session', headers: alice.headers })
    ).json().session.id;
    server.clock.advance(10 * 60_000);
    // A sensitive action with a stale proof: 401 step_up_required, RFC 9470's challenge.
    const stale = await app.inject({
      method: 'POST',
      url: '/auth/mfa/recovery-codes',
      headers: alice.headers,
    });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error).toBe('step_up_required');
    expect(stale.headers['www-authenticate']).toMatch(/^Bearer error="insufficient_user_authentication"/);
    expect(stale.headers['www-authenticate']).toContain('max_age=300');
    // Bad input: wrong password, wrong code, two proofs, unknown field.
    for (const [payload, status, error] of [
      [{ password: 'wrong password here' }, 401, 'invalid_password'],
      [{ code: '000000' }, 401, 'mfa_code_invalid'],
      [{ password: PASSWORD, code: '123456' }, 400, 'invalid_request'],
      [{ passcode: '123456' }, 400, 'invalid_request'],
      [{}, 400, 'invalid_request'],
    ] as const) {
      const response = await app.inject({
        method: 'POST',
        url: '/auth/reauthenticate',
        headers: alice.headers,
        payload,
      });
      expect(response.statusCode, JSON.stringify(payload)).toBe(status);
      expect(response.json().error).toBe(error);
    }
    const stepped = await app.inject({
      method: 'POST',
      url: '/auth/reauthenticate',
      headers: alice.headers,
      payload: { code: totpAt(secret, server.clock.now()) },
    });
    expect(stepped.statusCode, stepped.body).toBe(200);
    const body = stepped.json();
    expect(body).toMatchObject({
      authTime: new Date(server.clock.now()).toISOString(),
      amr: ['otp'],
      acr: 'aal2',
      session: { id: sessionId },
    });
    // The same login, a new credential that carries the new proof.
    const headers = bearerOf(stepped);
    const now = await app.inject({ method: 'GET', url: '/auth/session', headers });
    expect(now.json().session).toMatchObject({ id: sessionId, amr: ['otp'] });
    if (mode !== 'session') {
      const claims = await verifiedClaims(server, body.accessToken);
      expect(claims).toMatchObject({
        sid: sessionId,
        amr: ['otp'],
        auth_time: Math.floor(server.clock.now() / 1000),
      });
    }
    const done = await app.inject({ method: 'POST', url: '/auth/mfa/recovery-codes', headers });
    expect(done.statusCode, done.body).toBe(200);
    // A password step-up records just that: the proof is never merged with an older one.
    const pwd = await app.inject({
      method: 'POST',
      url: '/auth/reauthenticate',
      headers,
      payload: { password: PASSWORD },
    });
    expect(pwd.json()).toMatchObject({ amr: ['pwd'], acr: 'aal1' });
  });

  it('cookie clients: removing the app needs a fresh proof and the anti-CSRF token; then logins need only the password', async () => {
    const server = await start(mode);
    const { app } = server;
    const email = newEmail();
    await server.tessera.accounts.register({ email, password: PASSWORD });
    const login = await post(app, '/auth/login', { email, password: PASSWORD });
    const cookie = login.cookies
      .filter((c) => c.name === SESSION_COOKIE || c.name === '__Host-tessera_at')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const headers = { cookie, ...csrfFor(cookie) };
    const begin = await app.inject({ method: 'POST', url: '/auth/mfa/totp', headers: { cookie } });
    expect(begin.statusCode).toBe(403);
    expect(begin.json().error).toBe('csrf_token_invalid');
    await enrol(server, headers);
    server.clock.advance(6 * 60_000);
    const stale = await app.inject({ method: 'DELETE', url: '/auth/mfa/totp', headers });
    expect(stale.json().error).toBe('step_up_required');
    const owner = await server.tessera.accounts.findByEmail(email);
    expect(owner && (await server.tessera.mfa.status(owner)).totp.enrolled).toBe(true);
    const reauth = await app.inject({
      method: 'POST',
      url: '/auth/reauthenticate',
      headers,
      payload: { password: PASSWORD },
    });
    expect(reauth.statusCode).toBe(200);
    const renewed = reauth.cookies
      .filter((c) => c.name === SESSION_COOKIE || c.name === '__Host-tessera_at')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const after = renewed || cookie;
    const removed = await app.inject({
      method: 'DELETE',
      url: '/auth/mfa/totp',
      headers: { cookie: after, ...csrfFor(after) },
    });
    expect(removed.statusCode, removed.body).toBe(204);
    const plain = await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
    expect(plain.json().session.amr).toEqual(['pwd']);
    const status = await app.inject({ method: 'GET', url: '/auth/mfa', headers: bearerOf(plain) });
    expect(status.json()).toMatchObject({ methods: [], recoveryCodes: { remaining: 0 } });
  });

  it('a password reset by email does not skip the factor: signIn answers with the challenge', async () => {
    const server = await start(mode);
    const { app } = server;
    const alice = await customer(server);
    const { secret } = await enrol(server, alice.headers);
    expect((await post(app, '/auth/password/forgot', { email: alice.email })).statusCode).toBe(202);
    const outbox = server.tessera.email.stores.outbox;
    let token: string | undefined;
    for (let tries = 0; token === undefined && tries < 100; tries++) {
      const now = server.clock.now();
      const mail = (await outbox.claimMail(now, 'mfa-test', now + 60_000, 50)).find(
        (m) => m.to === alice.email && m.kind === 'reset',
      );
      const link = mail && /token=([^\s&"]+)/.exec(mail.text)?.[1];
      if (link) token = decodeURIComponent(link);
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const reset = await post(app, '/auth/password/reset', {
      token,
      newPassword: 'another long passphrase 42',
      signIn: true,
      transport: 'bearer',
    });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toEqual({
      revokedSessions: 1,
      mfaRequired: true,
      methods: ['totp', 'recovery_code'],
      mfaToken: expect.any(String),
    });
    server.clock.advance(30_000);
    const verified = await post(app, '/auth/mfa/verify', {
      code: totpAt(secret, server.clock.now()),
      mfaToken: reset.json().mfaToken,
    });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json().session.amr).toEqual(['mfa', 'otp', 'pwd']);
  });

  it('admins: no second factor, no control plane; enrolment is forced at login; a stale proof gets step_up_required', async () => {
    const server = await start(mode);
    const { app } = server;
    const victim = await customer(server);
    // A login made before the role was given has only a password behind it.
    const early = await customer(server);
    await server.tessera.control.setRoles(early.userId, ['admin'], {
      actorId: null,
      client: { ip: '127.0.0.1', userAgent: 'test' },
    });
    // hybrid: a role change revokes the user's access tokens; the login refreshes and goes on.
    const refreshed =
      mode === 'hybrid' ? await post(app, '/auth/refresh', { refreshToken: early.refreshToken }) : undefined;
    const refused = await app.inject({
      method: 'POST',
      url: `/admin/api/users/${victim.userId}/lock`,
      headers: refreshed ? bearerOf(refreshed) : early.headers,
      payload: { reason: 'fraud' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toBe('mfa_required');
    expect((await server.tessera.accounts.findById(victim.userId))?.lockedAt).toBeNull();

    // Its next login must enrol first: the challenge opens only enrolment.
    const first = await post(app, '/auth/login', {
      email: early.email,
      password: PASSWORD,
      transport: 'bearer',
    });
    expect(first.json()).toEqual({
      mfaEnrollmentRequired: true,
      methods: ['totp'],
      mfaToken: expect.any(String),
    });
    const notAVerify = await post(app, '/auth/mfa/verify', {
      code: '123456',
      mfaToken: first.json().mfaToken,
    });
    expect(notAVerify.json().error).toBe('mfa_challenge_invalid');
    const admin = await loginWithSecondFactor(
      app,
      { email: early.email, password: PASSWORD, transport: 'bearer' },
      server.clock.now(),
    );
    expect(admin.json()).toMatchObject({
      recoveryCodes: expect.any(Array),
      session: { amr: ['mfa', 'otp', 'pwd'] },
    });
    expect(authenticatorOf(early.email)).toBeDefined();
    const lock = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: `/admin/api/users/${victim.userId}/lock`,
        headers,
        payload: { reason: 'fraud' },
      });
    server.clock.advance(6 * 60_000);
    const stale = await lock(bearerOf(admin));
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error).toBe('step_up_required');
    expect(stale.headers['www-authenticate']).toMatch(/insufficient_user_authentication/);
    expect((await server.tessera.accounts.findById(victim.userId))?.lockedAt).toBeNull();
    const secret = authenticatorOf(early.email)?.secret as string;
    const stepped = await app.inject({
      method: 'POST',
      url: '/auth/reauthenticate',
      headers: bearerOf(admin),
      payload: { code: totpAt(secret, server.clock.now()) },
    });
    expect(stepped.statusCode, stepped.body).toBe(200);
    expect((await lock(bearerOf(stepped))).statusCode).toBe(200);
    // The console lists each user's factors.
    const users = await app.inject({ method: 'GET', url: '/admin/api/users', headers: bearerOf(stepped) });
    const listed = users.json().users.find((u: { id: string }) => u.id === early.userId);
    expect(listed.mfa).toEqual(['totp', 'recovery_code']);

    // An admin's reset of a user's factors: audited, ends that user's logins.
    const target = await customer(server);
    await enrol(server, target.headers);
    const reset = await app.inject({
      method: 'POST',
      url: `/admin/api/users/${target.userId}/mfa/reset`,
      headers: bearerOf(stepped),
    });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toMatchObject({ totp: true, recoveryCodes: 10, revokedSessions: 1 });
    expect(await server.tessera.sessions.listOfUser(target.userId)).toEqual([]);
    const audit = await server.tessera.audit.list({ userId: target.userId, type: 'mfa.reset' });
    expect(audit[0]).toMatchObject({ actorId: early.userId });
    const plain = await post(app, '/auth/login', {
      email: target.email,
      password: PASSWORD,
      transport: 'bearer',
    });
    expect(plain.json().session.amr).toEqual(['pwd']);
    expect(stepOf(server.clock.now())).toBeGreaterThan(0);
  });
});
