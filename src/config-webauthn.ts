import { isIP } from 'node:net';
import { z } from 'zod';
import { isExactOrigin } from './config-checks.js';

/**
 * Passkeys (WebAuthn, issue 18): the relying party. Kept beside config.ts, which merges these
 * variables into its schema and calls webauthnConfig().
 *
 * A browser signs the page's origin and the RP id into every assertion; Tessera accepts only
 * the configured ones, which is what makes a passkey useless on a phishing site.
 */
export const webauthnEnvironment = {
  // The RP id: the registrable domain passkeys are bound to (e.g. bank.example), never an IP.
  // Default: TESSERA_ISSUER's host. Changing it later orphans every registered passkey.
  TESSERA_WEBAUTHN_RP_ID: z
    .string()
    .optional()
    .refine(
      (id) => id === undefined || isRpId(id),
      'must be a domain name like bank.example (no scheme, port, path or IP address)',
    ),
  // The exact origins pages calling navigator.credentials are served from (comma-separated),
  // each the RP id or a subdomain of it; https, or http only on localhost.
  // Default: TESSERA_ISSUER's origin. An app forwarding /auth from its own origin lists that one.
  TESSERA_WEBAUTHN_ORIGINS: z
    .string()
    .optional()
    .transform((text) =>
      text
        ?.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().refine(isExactOrigin, 'must list exact origins like https://bank.example'))
        .min(1, 'must list at least one origin')
        .optional(),
    ),
  // The name the browser's passkey dialog shows ("Save a passkey for Example Bank"). Default: the RP id.
  TESSERA_WEBAUTHN_RP_NAME: z
    .string()
    .min(1)
    .max(64)
    .refine((name) => !/[\p{Cc}]/u.test(name), 'must be one line of text')
    .optional(),
};

export interface WebAuthnConfig {
  rpId: string;
  rpName: string;
  origins: string[];
}

type WebAuthnEnvironment = z.output<z.ZodObject<typeof webauthnEnvironment>>;

/**
 * The relying party, or undefined when nothing was set and TESSERA_ISSUER's host cannot be one
 * (an IP address): passkeys are then off (409 passkeys_unavailable) and the rest works as before.
 * `fail` throws the ConfigError for a combination no browser would accept.
 */
export function webauthnConfig(
  e: WebAuthnEnvironment,
  issuer: string,
  fail: (message: string) => never,
): WebAuthnConfig | undefined {
  const issuerUrl = new URL(issuer);
  const rpId = e.TESSERA_WEBAUTHN_RP_ID ?? issuerUrl.hostname;
  if (!isRpId(rpId)) {
    if (e.TESSERA_WEBAUTHN_ORIGINS) {
      fail(
        `TESSERA_WEBAUTHN_ORIGINS needs TESSERA_WEBAUTHN_RP_ID: TESSERA_ISSUER's host is no domain (got ${JSON.stringify(e.TESSERA_WEBAUTHN_ORIGINS.join(','))})`,
      );
    }
    return undefined;
  }
  const origins = e.TESSERA_WEBAUTHN_ORIGINS ?? [issuerUrl.origin];
  const got = `(got ${JSON.stringify(origins.join(','))})`;
  for (const origin of origins) {
    const { protocol, hostname } = new URL(origin);
    // The browser refuses an RP id that is not the origin's host or a parent domain of it.
    if (hostname !== rpId && !hostname.endsWith(`.${rpId}`)) {
      fail(
        `TESSERA_WEBAUTHN_ORIGINS must be on the RP id ${rpId} or a subdomain of it: ${origin} is not ${got}`,
      );
    }
    // WebAuthn runs only in secure contexts: https, or http on localhost.
    if (protocol !== 'https:' && hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
      fail(`TESSERA_WEBAUTHN_ORIGINS must be https (http only on localhost): ${origin} is not ${got}`);
    }
  }
  return { rpId, rpName: e.TESSERA_WEBAUTHN_RP_NAME ?? rpId, origins };
}

/** A lower-case domain name (localhost included), never an IP address. */
function isRpId(id: string): boolean {
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  return (
    id.length <= 253 &&
    new RegExp(`^${label}(?:\\.${label})*$`).test(id) &&
    isIP(id) === 0 &&
    !/^[0-9.]+$/.test(id)
  );
}
