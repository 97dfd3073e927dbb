import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { AuthError } from '../errors.js';
import type { SecondFactorMethod } from '../mfa/second-factors.js';
import type { Passkeys } from './passkeys.js';
import { authenticationResponse } from './response-shape.js';

/**
 * Passkeys as a second factor (POST /auth/mfa/verify `{passkey}`) and as a step-up proof
 * (POST /auth/reauthenticate `{passkey}`), plugged into the SecondFactors registry. The
 * assertion must answer a challenge from POST /auth/passkeys/mfa/options (a login's second
 * step) or /auth/passkeys/reauthenticate/options (step-up): issued to this very user for that
 * purpose, so a challenge drawn for one can never complete the other.
 */
export function passkeySecondFactor(passkeys: Passkeys): SecondFactorMethod {
  return {
    name: 'passkey',
    field: 'passkey',
    enrolled: (user) => passkeys.hasPasskeys(user.id),
    async verify(user, proof, { client, purpose }) {
      const parsed = authenticationResponse.safeParse(proof);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = ['passkey', ...(issue?.path ?? [])].join('.');
        throw new AuthError(
          'invalid_request',
          `The request is invalid (${field}: ${issue?.message ?? 'invalid'}).`,
        );
      }
      try {
        const verified = await passkeys.verifyFor(
          user.id,
          parsed.data as AuthenticationResponseJSON,
          purpose === 'login' ? 'second_factor' : 'reauthenticate',
          client,
        );
        return verified.amr;
      } catch (error) {
        // The registry's contract: a refused proof is mfa_code_invalid (counted, nothing changed).
        if (error instanceof AuthError && error.code.startsWith('passkey_')) {
          throw new AuthError(
            'mfa_code_invalid',
            error.code === 'passkey_challenge_invalid'
              ? 'The passkey request has expired or was already used: start again.'
              : 'The passkey could not be verified.',
          );
        }
        throw error;
      }
    },
  };
}
