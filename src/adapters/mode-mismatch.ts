import { ACCESS_TOKEN_COOKIE, SESSION_COOKIE } from '../wire/credentials.js';
import {
  type CredentialHeaders,
  cookieValue,
  type PresentedCredential,
  type VerifierMode,
} from './principal.js';

/**
 * An app whose verifier's `mode` is not Tessera's refuses every login, and the 401s alone do
 * not say why. The signs are on the requests themselves: a session cookie or an opaque session
 * token where access tokens were expected, or the reverse. On the first such sign this warns
 * once, naming both modes, so the mismatch is found in the app's log instead of by guessing.
 * (jwt and hybrid share their cookies and tokens, so which of the two Tessera runs cannot be
 * told from a request; the warning names both.)
 */
export type WarningSink = (message: string) => void;

export const defaultWarningSink: WarningSink = (message) =>
  process.emitWarning(message, { code: 'TESSERA_MODE_MISMATCH' });

export function watchModeMismatch(mode: VerifierMode, warn: WarningSink) {
  let warned = false;
  const say = (tesseraMode: string, evidence: string) => {
    if (warned) return;
    warned = true;
    warn(
      `tessera/verify: this app's verifier is configured with mode '${mode}', but Tessera appears to run in ${tesseraMode} mode (${evidence}). Set the verifier's mode to Tessera's TESSERA_MODE; until then every login is refused.`,
    );
  };
  const tokenMode = mode !== 'session';
  return {
    /** A request that carried no credential of this mode. */
    noCredential(headers: CredentialHeaders) {
      if (warned || headers.authorization !== undefined || !headers.cookie) return;
      if (tokenMode && cookieValue(headers.cookie, SESSION_COOKIE)) {
        say(
          'session',
          `a request carried the session cookie ${SESSION_COOKIE} and no ${ACCESS_TOKEN_COOKIE}`,
        );
      } else if (!tokenMode && cookieValue(headers.cookie, ACCESS_TOKEN_COOKIE)) {
        say(
          'jwt or hybrid',
          `a request carried the access-token cookie ${ACCESS_TOKEN_COOKIE} and no ${SESSION_COOKIE}`,
        );
      }
    },
    /** A presented bearer credential that was refused. */
    refused(credential: PresentedCredential) {
      if (warned || credential.transport !== 'bearer') return;
      const looksLikeJwt = credential.token.split('.').length === 3;
      if (tokenMode && !looksLikeJwt && !credential.token.startsWith('tsr_')) {
        say('session', 'a bearer token that is not a JWT, as session mode issues, was refused');
      } else if (!tokenMode && looksLikeJwt) {
        say('jwt or hybrid', "a bearer JWT access token was refused by Tessera's session check");
      }
    },
  };
}
