import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MFA_CHALLENGE_COOKIE } from '../../src/http/routes/login-answer.js';
import { newEmail, PASSWORD, post, startTessera, type TestServer } from '../helpers.js';
import { SoftAuthenticator } from '../passkeys/soft-authenticator.js';

/**
 * A passkey as the second factor of a password login (POST /auth/mfa/verify {passkey}) and as
 * the fresh proof of a step-up (POST /auth/reauthenticate {passkey}), in every mode, with a
 * software authenticator (real ES256 signatures). Removal needs a fresh proof; an operator's
 * factor reset removes passkeys too.
 */

const ORIGIN = 'http://localhost:3000';
const RP_ID = 'localhost';
type Json = Record<string, unknown>;

const bearerOf = (body: Json) => ({ authorization: `Bearer ${(body.token ?? body.accessToken) as string}` });

/** A user with a password and one passkey; returns the bearer headers of that first login. */
async function userWithPasskey(app: FastifyInstance, authenticator: SoftAuthenticator) {
  const email = newEmail();
  await post(app, '/auth/register', { email, password: PASSWORD });
  const login = await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
  const headers = bearerOf(login.json());
  const options = (await post(app, '/auth/passkeys/register/options', {}, headers)).json();
  const registered = await post(
    app,
    '/auth/passkeys/register',
    { response: authenticator.register(options) },
    headers,
  );
  expect(registered.statusCode, registered.body).toBe(201);
  return { email, headers, userId: login.json().user.id as string };
}

/** A full login of a passkey user: the password, then the passkey as second step (bearer). */
async function userLogin(app: FastifyInstance, email: string, authenticator: SoftAuthenticator) {
  const { mfaToken } = (
    await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
  ).json();
  const options = (await post(app, '/auth/passkeys/mfa/options', { mfaToken })).json();
  const done = await post(app, '/auth/mfa/verify', { mfaToken, passkey: authenticator.assert(options) });
  return { headers: bearerOf(done.json()) };
}
for (const mode of ['session', 'jwt', 'hybrid'] as const) {
  describe(`a passkey as second factor and step-up proof, ${mode} mode`, () => {
    let server: TestServer;
    beforeAll(async () => {
      // Step-up age 2 minutes, so a stale proof comes before the 5-minute access token expires.
      server = await startTessera({ env: { TESSERA_MODE: mode, TESSERA_STEP_UP_MAX_AGE: '2m' } });
    });
    afterAll(() => server.close());

    it('a password login of a passkey user asks for the second factor; the passkey completes it (bearer and cookie)', async () => {
      const { app } = server;
      const authenticator = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
      const { email, userId } = await userWithPasskey(app, authenticator);

      // The user's factors (GET /auth/mfa) list the passkey.
      const factors = await app.inject({
        method: 'GET',
        url: '/auth/mfa',
        headers: (await userLogin(app, email, authenticator)).headers,
      });
      expect(factors.json().methods).toEqual(['passkey']);

      // Bearer: the mfaToken travels in the bodies.
      const first = await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
      expect(first.json()).toMatchObject({ mfaRequired: true, methods: ['passkey'] });
      const { mfaToken } = first.json();
      const options = await post(app, '/auth/passkeys/mfa/options', { mfaToken });
      expect(options.statusCode, options.body).toBe(200);
      // The challenge lists exactly this user's passkey, and user verification is only preferred.
      expect(options.json().allowCredentials.map((c: Json) => c.id)).toEqual([authenticator.id]);
      expect(options.json().userVerification).toBe('preferred');
      const verified = await post(app, '/auth/mfa/verify', {
        mfaToken,
        passkey: authenticator.assert(options.json(), { userVerified: false }),
      });
      expect(verified.statusCode, verified.body).toBe(200);
      expect(verified.json().user.id).toBe(userId);
      // pwd + a device-bound key: RFC 8176 mfa, aal2 (no `user`: this authenticator did not verify).
      expect(verified.json().session).toMatchObject({ amr: ['hwk', 'mfa', 'pwd'], acr: 'aal2' });
      const me = await app.inject({
        method: 'GET',
        url: '/auth/session',
        headers: bearerOf(verified.json()),
      });
      expect(me.json().session.amr).toEqual(['hwk', 'mfa', 'pwd']);

      // Cookie: the challenge cookie names the pending login; options and verify read it.
      const cookieLogin = await post(app, '/auth/login', { email, password: PASSWORD });
      const challenge = cookieLogin.cookies.find((c) => c.name === MFA_CHALLENGE_COOKIE)?.value as string;
      expect(challenge).toBeTruthy();
      const cookie = { cookie: `${MFA_CHALLENGE_COOKIE}=${challenge}` };
      const cookieOptions = (await post(app, '/auth/passkeys/mfa/options', {}, cookie)).json();
      const done = await post(
        app,
        '/auth/mfa/verify',
        { passkey: authenticator.assert(cookieOptions) },
        cookie,
      );
      expect(done.statusCode, done.body).toBe(200);
      expect(done.json().session.amr).toEqual(['hwk', 'mfa', 'pwd', 'user']);
    });

    it('refused second steps: a wrong passkey, a replay, a login challenge, no pending login; counted, nothing opened', async () => {
      const { app } = server;
      const authenticator = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
      const { email } = await userWithPasskey(app, authenticator);
      const stranger = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
      await userWithPasskey(app, stranger);
      const { mfaToken } = (
        await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
      ).json();
      const options = (await post(app, '/auth/passkeys/mfa/options', { mfaToken })).json();
      const expectRefused = async (passkey: unknown, code = 'mfa_code_invalid', status = 401) => {
        const answer = await post(app, '/auth/mfa/verify', { mfaToken, passkey });
        expect(answer.statusCode, answer.body).toBe(status);
        expect(answer.json().error).toBe(code);
      };
      // Another user's passkey answering this user's challenge.
      await expectRefused(stranger.assert(options));
      // Signed on another origin.
      const fresh = (await post(app, '/auth/passkeys/mfa/options', { mfaToken })).json();
      await expectRefused(authenticator.assert(fresh, { origin: 'https://bank-login.example' }));
      // A usernameless login challenge used as the second step.
      const loginChallenge = (await post(app, '/auth/passkeys/login/options', {})).json();
      await expectRefused(authenticator.assert(loginChallenge));
      // Malformed: 400, not a code.
      await expectRefused({ id: 'x' }, 'invalid_request', 400);
      // A good one still works: the challenge lived through the failures.
      const good = (await post(app, '/auth/passkeys/mfa/options', { mfaToken })).json();
      const response = authenticator.assert(good);
      expect((await post(app, '/auth/mfa/verify', { mfaToken, passkey: response })).statusCode).toBe(200);
      // Replayed against a new pending login: refused.
      const again = (
        await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' })
      ).json();
      const replay = await post(app, '/auth/mfa/verify', { mfaToken: again.mfaToken, passkey: response });
      expect(replay.json().error).toBe('mfa_code_invalid');
      // No pending login at all.
      const none = await post(app, '/auth/passkeys/mfa/options', { mfaToken: 'not-a-challenge' });
      expect(none.statusCode).toBe(401);
      expect(none.json().error).toBe('mfa_challenge_invalid');
      expect((await post(app, '/auth/passkeys/mfa/options', { extra: 1 })).statusCode).toBe(400);
    });

    it('step-up: removing a passkey needs a fresh proof; POST /auth/reauthenticate {passkey} gives one', async () => {
      const { app, clock } = server;
      const authenticator = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
      const spare = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, backupEligible: true });
      const { headers } = await userWithPasskey(app, authenticator);
      const options = (await post(app, '/auth/passkeys/register/options', {}, headers)).json();
      await post(
        app,
        '/auth/passkeys/register',
        { response: spare.register(options), name: 'Phone' },
        headers,
      );
      const { passkeys } = (await app.inject({ method: 'GET', url: '/auth/passkeys', headers })).json();
      const phone = passkeys.find((p: Json) => p.name === 'Phone');

      clock.advance(3 * 60_000);
      let current: Record<string, string> = headers;
      const remove = () =>
        app.inject({ method: 'DELETE', url: `/auth/passkeys/${phone.id}`, headers: current });
      const stale = await remove();
      expect(stale.statusCode).toBe(401);
      expect(stale.json().error).toBe('step_up_required');
      expect(stale.headers['www-authenticate']).toMatch(/insufficient_user_authentication/);
      // Adding one is refused the same way.
      expect((await post(app, '/auth/passkeys/register/options', {}, current)).json().error).toBe(
        'step_up_required',
      );

      // A step-up challenge, answered by the passkey: auth_time is now, amr the passkey's.
      const stepUpOptions = await post(app, '/auth/passkeys/reauthenticate/options', {}, current);
      expect(stepUpOptions.json().allowCredentials).toHaveLength(2);
      // A step-up challenge is not a login: refused there.
      const misused = await post(app, '/auth/passkeys/login', {
        response: authenticator.assert(stepUpOptions.json()),
      });
      expect(misused.json().error).toBe('passkey_challenge_invalid');
      const stepUp2 = (await post(app, '/auth/passkeys/reauthenticate/options', {}, current)).json();
      const stepped = await post(
        app,
        '/auth/reauthenticate',
        { passkey: authenticator.assert(stepUp2) },
        current,
      );
      expect(stepped.statusCode, stepped.body).toBe(200);
      expect(stepped.json()).toMatchObject({ amr: ['hwk', 'user'], acr: 'aal2' });
      expect(Date.parse(stepped.json().authTime)).toBe(clock.now());
      // The reissued credential carries the new proof.
      current = bearerOf(stepped.json());
      expect((await remove()).statusCode).toBe(204);
      const left = (await app.inject({ method: 'GET', url: '/auth/passkeys', headers: current })).json()
        .passkeys;
      expect(left.map((p: Json) => p.name)).toEqual(['Passkey 1']);
      // A wrong step-up proof: 401, nothing refreshed.
      const wrong = await post(
        app,
        '/auth/reauthenticate',
        {
          passkey: spare.assert(
            (await post(app, '/auth/passkeys/reauthenticate/options', {}, current)).json(),
          ),
        },
        current,
      );
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error).toBe('mfa_code_invalid');
    });

    it("an operator's factor reset removes the user's passkeys and ends their logins", async () => {
      const { app, tessera } = server;
      const authenticator = new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID });
      const { email, headers, userId } = await userWithPasskey(app, authenticator);
      await tessera.mfa.resetByOperator(userId, { actorId: null });
      expect((await app.inject({ method: 'GET', url: '/auth/passkeys', headers })).statusCode).toBe(401);
      const refused = await post(app, '/auth/passkeys/login', {
        response: authenticator.assert((await post(app, '/auth/passkeys/login/options', {})).json()),
      });
      expect(refused.json().error).toBe('passkey_invalid');
      // The password alone logs in again (no factor left to ask for).
      const login = await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
      expect(login.json().mfaRequired).toBeUndefined();
      expect(
        (await app.inject({ method: 'GET', url: '/auth/passkeys', headers: bearerOf(login.json()) })).json()
          .passkeys,
      ).toEqual([]);
    });
  });
}
