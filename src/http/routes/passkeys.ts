import type { FastifyInstance } from 'fastify';
import { AuthError } from '../../core/errors.js';
import type { PasskeyProof } from '../../core/passkeys/passkeys.js';
import type { PasskeyRecord } from '../../store/ports/passkeys.js';
import type { Tessera } from '../../tessera.js';
import { clientContext, optionalAuth, requireAuth } from '../credentials.js';
import { requireFreshProof } from '../guards.js';
import {
  mfaOptionsBody,
  passkeyLoginBody,
  passkeyParams,
  registerBody,
  renameBody,
} from '../passkey-input.js';
import type { RoutePolicy } from '../route-policy.js';
import { parseInput } from '../validation.js';
import { finishLogin, presentedChallenge } from './login-answer.js';

// A passkey login is a way in like POST /auth/login: no anti-CSRF token (no login yet to bind
// one to; the Origin check still applies) and the same brute-force limits. Its options route
// draws a challenge (one row, five minutes) for anyone: limited per IP so nobody fills the table.
const loginPolicy: RoutePolicy = { rateLimitAction: 'login', csrfExempt: true };
const loginOptionsPolicy: RoutePolicy = { rateLimitAction: 'challenge', csrfExempt: true };
// The second step's challenge: like POST /auth/mfa/verify, a way in (no login yet) whose
// refusals (a dead MFA challenge) count against the login limits.
const mfaOptionsPolicy: RoutePolicy = { rateLimitAction: 'login', csrfExempt: true };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What the owner sees of a passkey: never the public key or the credential id. */
export const passkeyView = (passkey: PasskeyRecord) => ({
  id: passkey.id,
  name: passkey.name,
  createdAt: iso(passkey.createdAt),
  lastUsedAt: iso(passkey.lastUsedAt),
  /** singleDevice (device-bound: amr hwk) or multiDevice (synced: amr swk). */
  deviceType: passkey.deviceType,
  backupEligible: passkey.backupEligible,
  backedUp: passkey.backedUp,
  transports: passkey.transports,
});

/** Passkeys: register, list, rename, remove, and sign in with one alone (usernameless). */
export function passkeyRoutes(tessera: Tessera) {
  const { passkeys } = tessera;
  const authenticated = { preHandler: requireAuth() };
  // Adding or removing a factor needs a fresh proof (TESSERA_STEP_UP_MAX_AGE): a stolen session
  // alone cannot plant the thief's passkey on the account, nor remove the owner's.
  const fresh = { preHandler: [requireAuth(), requireFreshProof(tessera)] };

  return async (app: FastifyInstance) => {
    app.post('/auth/passkeys/register/options', fresh, async (request) => {
      const user = await tessera.accounts.findById(request.auth.userId);
      if (!user) throw new AuthError('unauthenticated');
      return passkeys.registrationOptions(user, request.auth.sessionId);
    });

    app.post('/auth/passkeys/register', fresh, async (request, reply) => {
      const body = parseInput(registerBody, request.body);
      const user = await tessera.accounts.findById(request.auth.userId);
      if (!user) throw new AuthError('unauthenticated');
      const passkey = await passkeys.register(
        user,
        body.response,
        body.name,
        request.auth.sessionId,
        clientContext(request),
      );
      return reply.code(201).send({ passkey: passkeyView(passkey) });
    });

    app.get('/auth/passkeys', authenticated, async (request) => ({
      passkeys: (await passkeys.list(request.auth.userId)).map(passkeyView),
    }));

    app.patch('/auth/passkeys/:id', authenticated, async (request) => {
      const { id } = parseParams(request.params);
      const { name } = parseInput(renameBody, request.body);
      const { userId, sessionId } = request.auth;
      await passkeys.rename(userId, id, name, sessionId, clientContext(request));
      const renamed = (await passkeys.list(userId)).find((p) => p.id === id);
      if (!renamed) throw new AuthError('passkey_not_found');
      return { passkey: passkeyView(renamed) };
    });

    app.delete('/auth/passkeys/:id', fresh, async (request, reply) => {
      const { id } = parseParams(request.params);
      const { userId, sessionId } = request.auth;
      await passkeys.remove(userId, id, sessionId, clientContext(request));
      return reply.code(204).send();
    });

    // Step-up: a challenge for POST /auth/reauthenticate {passkey}, listing the user's passkeys.
    app.post('/auth/passkeys/reauthenticate/options', authenticated, async (request) =>
      passkeys.optionsFor(request.auth.userId, 'reauthenticate'),
    );

    // A login's second step: a challenge listing the passkeys of the user the pending MFA
    // challenge (cookie, or mfaToken) names, for POST /auth/mfa/verify {passkey}.
    app.post('/auth/passkeys/mfa/options', { config: mfaOptionsPolicy }, async (request) => {
      const body = parseInput(mfaOptionsBody, request.body ?? {});
      const presented = presentedChallenge(request, body.mfaToken);
      const challenge = await tessera.mfa.challenges.find(presented.token, 'verify');
      return passkeys.optionsFor(challenge.userId, 'second_factor');
    });

    app.post('/auth/passkeys/login/options', { config: loginOptionsPolicy }, async () =>
      passkeys.loginOptions(),
    );

    app.post('/auth/passkeys/login', { config: loginPolicy }, async (request, reply) => {
      const body = parseInput(passkeyLoginBody, request.body);
      const client = clientContext(request);
      let proof: PasskeyProof;
      try {
        proof = await passkeys.login(body.response, client);
      } catch (error) {
        if (error instanceof AuthError && error.code !== 'passkeys_unavailable') {
          await tessera.audit.record('login.failed', {
            client,
            detail: { method: 'passkey', reason: error.code },
          });
        }
        throw error;
      }
      const { user } = proof;
      // TESSERA_REQUIRE_VERIFIED_EMAIL: a passkey does not prove the address either.
      await tessera.email.account.assertMayLogIn(user);
      // Session fixation: as POST /auth/login, a login the client already holds ends.
      const previous = await optionalAuth(request);
      if (previous) await tessera.sessions.revoke(previous.sessionId);
      // The answer of POST /auth/login; the login's proof: hwk or swk, and user when the
      // authenticator verified the user. A passkey is itself beyond a password: no second step.
      return finishLogin(tessera, request, reply, user, body.transport, proof.amr);
    });
  };
}

/** An id that cannot be a passkey's is the same 404 as another user's: ids are not an oracle. */
function parseParams(params: unknown): { id: string } {
  const parsed = passkeyParams.safeParse(params);
  if (!parsed.success) throw new AuthError('passkey_not_found');
  return parsed.data;
}
