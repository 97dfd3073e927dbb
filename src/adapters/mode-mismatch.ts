import { parseToken } from '../core/tokens.js';
import { ACCESS_TOKEN_COOKIE, SESSION_COOKIE } from '../wire/credentials.js';
import {
  type CredentialHeaders,
  cookieValue,
  type PresentedCredential,
  type VerifierMode,
} from './principal.js';

/**
 * An app whose verifier's `mode` is not Tessera's refuses every login, and the 401s alone do
 * not say why. The signs are on the requests: the other mode's cookie, or a bearer credential of
 * the other kind (an opaque `<id>.<secret>` session token where JWTs were expected, or the
 * reverse). A sign is only a suspicion (anyone can send any header), so it is confirmed by asking
 * Tessera, with that credential, `GET /auth/session`, whose answer names the mode Tessera runs;
 * Tessera's own session answers (session mode) are read the same way. The first confirmed
 * mismatch is told once, naming both modes. At most one question is asked every 10 s, so
 * made-up credentials cannot turn the app into a flood of requests to Tessera.
 */
export type WarningSink = (message: string) => void;

export const defaultWarningSink: WarningSink = (message) =>
  process.emitWarning(message, { code: 'TESSERA_MODE_MISMATCH' });

const PROBE_INTERVAL_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;

interface WatchOptions {
  mode: VerifierMode;
  tesseraUrl: URL;
  warn: WarningSink;
  now: () => number;
  fetch: typeof fetch;
}

export function watchModeMismatch(options: WatchOptions) {
  const { mode } = options;
  let warned = false;
  let lastProbeAt = Number.NEGATIVE_INFINITY;

  /** Tessera said it runs `tesseraMode`: warn once if that is not this verifier's mode. */
  const observed = (tesseraMode: unknown) => {
    if (warned || typeof tesseraMode !== 'string' || tesseraMode === mode) return;
    warned = true;
    options.warn(
      `tessera/verify: this app's verifier is configured with mode '${mode}', but Tessera runs in ${tesseraMode} mode (its GET /auth/session says so). Set the verifier's mode to Tessera's TESSERA_MODE ('${tesseraMode}'); until then logins are refused or checked the wrong way.`,
    );
  };

  const probe = (token: string) => {
    const now = options.now();
    if (warned || now - lastProbeAt < PROBE_INTERVAL_MS) return;
    lastProbeAt = now;
    options
      .fetch(new URL('/auth/session', options.tesseraUrl), {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      })
      .then(async (response) => {
        if (!response.ok) return;
        const body = (await response.json()) as { session?: { mode?: unknown } };
        observed(body.session?.mode);
      })
      .catch(() => undefined);
  };

  const tokenMode = mode !== 'session';
  const looksLikeSessionToken = (token: string) => parseToken(token) !== undefined;
  const looksLikeJwt = (token: string) => token.split('.').length === 3;

  return {
    observed,
    /** A request that carried no credential of this mode: does it carry the other mode's cookie? */
    noCredential(headers: CredentialHeaders) {
      if (warned || headers.authorization !== undefined || !headers.cookie) return;
      const other = cookieValue(headers.cookie, tokenMode ? SESSION_COOKIE : ACCESS_TOKEN_COOKIE);
      if (other) probe(other);
    },
    /** A bearer credential this verifier refused: is it of the other mode's kind? */
    refused(credential: PresentedCredential) {
      if (warned || credential.transport !== 'bearer') return;
      const otherKind = tokenMode ? looksLikeSessionToken(credential.token) : looksLikeJwt(credential.token);
      if (otherKind) probe(credential.token);
    },
  };
}
