import { z } from 'zod';

/**
 * The JSON answers' shapes, one zod schema per view (views.ts and the routes build exactly
 * these): GET /openapi.json publishes them, and the test suite validates every answer it gets
 * against the document (test/openapi-check.ts), so a field added here but not there (or there
 * but not here) fails a test. Strict objects: an undocumented field is drift too.
 */

const isoTime = z.iso.datetime({ offset: true });
const id = z.string().min(1);

export const errorAnswer = z.strictObject({
  error: z.string().describe("A stable code: README's Error codes table"),
  message: z.string(),
});

/** RFC 6749 5.2, on the OAuth endpoints. */
export const oauthErrorAnswer = z.strictObject({
  error: z.string(),
  error_description: z.string().optional(),
});

export const userAnswer = z.strictObject({ id, email: z.string(), roles: z.array(z.string()) });
export const verifiedUserAnswer = userAnswer.extend({ emailVerified: z.boolean() });

/** How and when the user last proved who they are on a login (core/auth-context.ts). */
const authContext = {
  authTime: isoTime,
  amr: z.array(z.string()).describe('RFC 8176 method references: pwd, otp, mfa, hwk, swk, user'),
  acr: z.enum(['aal1', 'aal2']),
};

export const sessionAnswer = z.strictObject({
  id,
  mode: z.enum(['session', 'jwt', 'hybrid', 'oauth']),
  createdAt: isoTime,
  expiresAt: isoTime,
  absoluteExpiresAt: isoTime,
  ...authContext,
});

/** The credentials a login opens: none in the body for cookie clients (they are in Set-Cookie). */
export const credentialsAnswer = z.strictObject({
  /** session mode, transport bearer: the opaque session token. */
  token: z.string().optional(),
  /** jwt and hybrid modes, transport bearer (RFC 6749 5.1 names in camelCase). */
  tokenType: z.literal('Bearer').optional(),
  accessToken: z.string().optional(),
  expiresIn: z.number().int().min(0).optional(),
  refreshToken: z.string().optional(),
});

export const tokenPairAnswer = z.strictObject({
  tokenType: z.literal('Bearer'),
  accessToken: z.string(),
  expiresIn: z.number().int().min(0),
  refreshToken: z.string(),
});

export const loginAnswer = z.strictObject({
  user: userAnswer,
  session: sessionAnswer,
  ...credentialsAnswer.shape,
});

/** GET /auth/session: the stored user and login (session mode), or what the token says (jwt, hybrid). */
export const callerAnswer = z.union([
  z.strictObject({ user: verifiedUserAnswer, session: sessionAnswer }),
  z.strictObject({
    user: z.strictObject({
      id,
      email: z.string().optional(),
      roles: z.array(z.string()),
      emailVerified: z.boolean(),
    }),
    session: z.strictObject({ id, mode: z.enum(['jwt', 'hybrid']), expiresAt: isoTime, ...authContext }),
  }),
]);

export const deviceAnswer = z.strictObject({
  id,
  current: z.boolean(),
  device: z.string(),
  ip: z.string(),
  createdAt: isoTime,
  lastSeenAt: isoTime,
  expiresAt: isoTime,
});

export const apiKeyAnswer = z.strictObject({
  id,
  name: z.string(),
  scopes: z.array(z.string()),
  status: z.enum(['active', 'expired', 'revoked']),
  createdAt: isoTime,
  expiresAt: isoTime.nullable(),
  lastUsedAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});

export const clientAnswer = z.strictObject({
  id,
  name: z.string(),
  type: z.enum(['confidential', 'public']),
  redirectUris: z.array(z.string()),
  scopes: z.array(z.string()),
  grantTypes: z.array(z.string()),
  audience: z.string(),
  createdAt: isoTime,
  // An OpenID Connect relying party (a client allowed `openid`) also shows its settings: all
  // five, or none (admin-oauth.ts clientView; core/oauth/oidc-clients.ts checks them).
  subjectType: z.enum(['public', 'pairwise']).optional(),
  idTokenSignedResponseAlg: z.string().optional(),
  postLogoutRedirectUris: z.array(z.string()).optional(),
  backchannelLogoutUri: z.string().nullable().optional(),
  backchannelLogoutSessionRequired: z.boolean().optional(),
});

/** When ending a login takes effect: the next request, or (pure jwt) the access token's expiry. */
export const loginEndAnswer = z.union([
  z.strictObject({ appliesAt: z.literal('next_request') }),
  z.strictObject({ appliesAt: z.literal('access_token_expiry'), maxDelaySeconds: z.number().int() }),
]);

/** A public JWK set: public members only (kty, crv, x, y, n, e), with kid, alg and use. */
export const jwksAnswer = z.strictObject({
  keys: z.array(
    z.strictObject({
      kty: z.enum(['OKP', 'EC', 'RSA']),
      crv: z.string().optional(),
      x: z.string().optional(),
      y: z.string().optional(),
      n: z.string().optional(),
      e: z.string().optional(),
      kid: z.string(),
      alg: z.string(),
      use: z.literal('sig'),
    }),
  ),
});

/** An empty JSON object (202 answers that say nothing more). */
export const emptyAnswer = z.strictObject({});

/** An answer that also says when the ending takes effect (loginEndAnswer's fields, spread in). */
export const withLoginEnd = <T extends z.core.$ZodLooseShape>(shape: T) =>
  z.union([
    z.strictObject({ ...shape, appliesAt: z.literal('next_request') }),
    z.strictObject({
      ...shape,
      appliesAt: z.literal('access_token_expiry'),
      maxDelaySeconds: z.number().int(),
    }),
  ]);
