import { z } from 'zod';

/**
 * The browser's PublicKeyCredential as JSON (PublicKeyCredential.toJSON(), or tessera/client's
 * conversion): strict shapes and sizes before @simplewebauthn/server sees anything, so junk is a
 * 400 naming the field, never a 500. Byte fields are base64url without padding.
 */
const base64url = (maxChars: number) =>
  z
    .string()
    .min(1)
    .max(maxChars)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

// A credential id is at most 1023 bytes (WebAuthn L3); its base64url is at most 1364 characters.
const credentialId = base64url(1364);
// Transports the browser reports; unknown future ones are kept as plain words.
const transports = z.array(z.string().regex(/^[a-z-]{1,32}$/)).max(10);
const clientExtensionResults = z.record(z.string().max(64), z.unknown()).default({});
const authenticatorAttachment = z.enum(['platform', 'cross-platform']).optional();

export const registrationResponse = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url(4096),
    attestationObject: base64url(8192),
    authenticatorData: base64url(4096).optional(),
    transports: transports.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url(4096).optional(),
  }),
  authenticatorAttachment,
  clientExtensionResults,
});

export const authenticationResponse = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url(4096),
    authenticatorData: base64url(4096),
    signature: base64url(1024),
    // A user handle is at most 64 bytes.
    userHandle: base64url(86).optional(),
  }),
  authenticatorAttachment,
  clientExtensionResults,
});
