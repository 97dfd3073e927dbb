import { z } from 'zod';
import { authenticationResponse, registrationResponse } from '../core/passkeys/response-shape.js';
import { text } from './validation.js';

/** A passkey's name as the user types it: one line, at most 64 characters. */
export const passkeyName = text(64)
  .transform((name) => name.trim())
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .refine((name) => !/\p{Cc}/u.test(name), 'must be one line of text'),
  );

export const registerBody = z.strictObject({
  response: registrationResponse,
  name: passkeyName.optional(),
});

export const passkeyLoginBody = z.strictObject({
  response: authenticationResponse,
  /** cookie (browsers, default): tokens in HttpOnly cookies. bearer: tokens in the body. */
  transport: z.enum(['cookie', 'bearer']).default('cookie'),
});

export const renameBody = z.strictObject({ name: passkeyName });

/** Tessera's passkey ids are newRandomId()s: 22 base64url characters. */
export const passkeyParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9_-]{22}$/) });

/** The second step's challenge comes as the cookie, or as `mfaToken` (bearer clients). */
export const mfaOptionsBody = z.strictObject({ mfaToken: text(200).optional() });
