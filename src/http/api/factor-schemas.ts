import { z } from 'zod';
import { authenticationResponse } from '../../core/passkeys/response-shape.js';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords.js';
import { text } from '../validation.js';
import { credentialsAnswer, loginAnswer, sessionAnswer } from './schemas.js';

/**
 * The answers (and the documented proof bodies) of second factors, step-up and passkeys
 * (issue 18): routes/mfa.ts, step-up.ts, passkeys.ts and the first-factor answer of every way
 * in (login-answer.ts). Strict objects, as in schemas.ts: an undocumented field is drift.
 */

const isoTime = z.iso.datetime({ offset: true });
/** The registry's method names (core/mfa/second-factors.ts): totp, recovery_code, passkey, … */
const methods = z.array(z.string()).describe('Second-factor methods: totp, recovery_code, passkey');
/** Bearer clients get the pending challenge in the body; cookie clients in __Host-tessera_mfa. */
const mfaToken = z.string().optional().describe('The pending challenge (transport bearer only)');

/** A first factor passed, the user has a second one: no login yet (login-answer.ts). */
export const mfaRequiredAnswer = z.strictObject({ mfaRequired: z.literal(true), methods, mfaToken });
/** TESSERA_MFA_REQUIRED_ROLES: the user must enrol (POST /auth/mfa/totp) before any login. */
export const mfaEnrollmentRequiredAnswer = z.strictObject({
  mfaEnrollmentRequired: z.literal(true),
  methods,
  mfaToken,
});

/** What a way in answers once the first factor passed: the login, or its pending second step. */
export const firstFactorAnswer = z.union([loginAnswer, mfaRequiredAnswer, mfaEnrollmentRequiredAnswer]);

// The built-in proofs, one field each (the registry's `field`); a body carries exactly one.
// Their own checks are the methods' (core/mfa/totp.ts, recovery-codes.ts, passkeys/second-factor.ts);
// the routes accept exactly the registered fields, so these are the documented ones.
const proofs = {
  code: z.string().describe('A TOTP code from the authenticator app'),
  recoveryCode: z.string().describe('One of the recovery codes (single use)'),
  passkey: authenticationResponse.describe('A WebAuthn assertion (PublicKeyCredential.toJSON())'),
};
const challengeToken = { mfaToken: text(200).optional() };

/** POST /auth/mfa/verify: one proof, and the challenge (cookie, or mfaToken). */
export const verifyProofBody = z.union(
  Object.entries(proofs).map(([field, schema]) => z.strictObject({ [field]: schema, ...challengeToken })),
);

/** POST /auth/reauthenticate: exactly one proof, the password among them. */
export const stepUpProofBody = z.union([
  z.strictObject({ password: text(MAX_PASSWORD_LENGTH * 4) }),
  ...Object.entries(proofs).map(([field, schema]) => z.strictObject({ [field]: schema })),
]);

export const totpEnrolmentAnswer = z.strictObject({
  secret: z.string().describe('Base32, to type in by hand'),
  uri: z.string().describe('otpauth://totp/… (the QR code)'),
  qrSvg: z.string().describe('The QR code of `uri`, as SVG'),
});

export const recoveryCodesAnswer = z.strictObject({ recoveryCodes: z.array(z.string()) });

/** Confirming TOTP: the codes, and (an enrolment the role policy asked for) the login it ends in. */
export const totpConfirmAnswer = z.union([
  recoveryCodesAnswer,
  z.strictObject({ ...recoveryCodesAnswer.shape, ...loginAnswer.shape }),
]);

export const mfaStatusAnswer = z.strictObject({
  methods,
  totp: z.strictObject({ enrolled: z.boolean(), pending: z.boolean(), since: isoTime.nullable() }),
  recoveryCodes: z.strictObject({ remaining: z.number().int().min(0) }),
});

/** A step-up: the login's new context and its reissued credentials (none in the body for cookies). */
export const stepUpAnswer = z.strictObject({
  authTime: isoTime,
  amr: z.array(z.string()),
  acr: z.enum(['aal1', 'aal2']),
  session: sessionAnswer,
  ...credentialsAnswer.shape,
});

/** What the owner sees of a passkey (routes/passkeys.ts passkeyView): no key, no credential id. */
export const passkeyAnswer = z.strictObject({
  id: z.string(),
  name: z.string(),
  createdAt: isoTime.nullable(),
  lastUsedAt: isoTime.nullable(),
  deviceType: z.enum(['singleDevice', 'multiDevice']),
  backupEligible: z.boolean(),
  backedUp: z.boolean(),
  transports: z.array(z.string()),
});

// WebAuthn options as @simplewebauthn/server's generate*Options return them (JSON forms of the
// spec's PublicKeyCredentialCreationOptions / RequestOptions). Exact where Tessera sets the
// values; `extensions` is the spec's open-ended map (a new extension is not drift), so a record.
const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/);
const userVerification = z.enum(['required', 'preferred', 'discouraged']);
const hints = z.array(z.enum(['hybrid', 'security-key', 'client-device']));
const extensions = z.record(z.string(), z.unknown());
const credentialDescriptor = z.strictObject({
  id: base64url,
  type: z.literal('public-key'),
  transports: z.array(z.string()).optional(),
});

/** POST /auth/passkeys/register/options: for navigator.credentials.create({publicKey}). */
export const creationOptionsAnswer = z.strictObject({
  challenge: base64url,
  rp: z.strictObject({ name: z.string(), id: z.string().optional() }),
  user: z.strictObject({
    id: base64url.describe('The user handle: the opaque user id, never the email'),
    name: z.string(),
    displayName: z.string(),
  }),
  pubKeyCredParams: z.array(z.strictObject({ alg: z.number().int(), type: z.literal('public-key') })),
  timeout: z.number().int().optional(),
  attestation: z.enum(['none', 'indirect', 'direct', 'enterprise']).optional(),
  attestationFormats: z.array(z.string()).optional(),
  excludeCredentials: z.array(credentialDescriptor).optional(),
  authenticatorSelection: z
    .strictObject({
      authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
      residentKey: z.enum(['required', 'preferred', 'discouraged']).optional(),
      requireResidentKey: z.boolean().optional(),
      userVerification: userVerification.optional(),
    })
    .optional(),
  extensions: extensions.optional(),
  hints: hints.optional(),
});

/** The login, second-factor and step-up options: for navigator.credentials.get({publicKey}). */
export const requestOptionsAnswer = z.strictObject({
  challenge: base64url,
  timeout: z.number().int().optional(),
  rpId: z.string().optional(),
  allowCredentials: z.array(credentialDescriptor).optional(),
  userVerification: userVerification.optional(),
  hints: hints.optional(),
  extensions: extensions.optional(),
});
