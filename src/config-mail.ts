import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The email settings (account recovery and verification, docs/DEPLOY.md "Email"). Kept beside
 * config.ts, which merges these variables into its schema and calls mailConfig().
 */
export const mailEnvironment = {
  // smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465. Unset outside production:
  // messages are written to TESSERA_MAIL_OUTBOX_DIR as .eml files instead (development).
  TESSERA_SMTP_URL: z
    .string()
    .optional()
    .refine((url) => url === undefined || (/^smtps?:\/\/./.test(url) && URL.canParse(url)), {
      message: 'must be smtp://user:password@host:587 or smtps://user:password@host:465',
    }),
  // The From of every message; a mailbox your SMTP provider lets you send as.
  TESSERA_MAIL_FROM: z
    .string()
    .min(3)
    .max(320)
    .refine((from) => !/[\r\n]/.test(from), 'must be one line, like "Example Bank <no-reply@bank.example>"')
    .default('Tessera <no-reply@localhost>'),
  TESSERA_MAIL_OUTBOX_DIR: z.string().min(1).default('./data/outbox'),
  // Where the links in mails point (Tessera's own pages); by default TESSERA_ISSUER.
  TESSERA_PUBLIC_URL: z
    .url()
    .optional()
    .refine((url) => url === undefined || /^https?:\/\//.test(url), 'must be an http(s) URL'),
  // on: an account whose address is not proven cannot log in (403 email_unverified).
  // Default: on in production, off otherwise (so `npm start` needs no mail to try things).
  TESSERA_REQUIRE_VERIFIED_EMAIL: z.enum(['on', 'off']).optional(),
  // A login from a device/IP pair the account has not used mails the owner a "this wasn't me" link.
  TESSERA_NEW_DEVICE_ALERTS: z.enum(['on', 'off']).default('on'),
};

export interface MailConfig {
  /** Holds a password: never log it. Undefined: the development outbox directory. */
  smtpUrl: string | undefined;
  from: string;
  /** Absolute path of the development outbox (one .eml per message). */
  outboxDir: string;
  /** Base URL of the links in mails, without a trailing slash. */
  publicUrl: string;
  requireVerifiedEmail: boolean;
  newDeviceAlerts: boolean;
}

type MailEnvironment = z.output<z.ZodObject<typeof mailEnvironment>>;

export function mailConfig(e: MailEnvironment, production: boolean, issuer: string): MailConfig {
  return {
    smtpUrl: e.TESSERA_SMTP_URL,
    from: e.TESSERA_MAIL_FROM,
    outboxDir: resolve(e.TESSERA_MAIL_OUTBOX_DIR),
    publicUrl: (e.TESSERA_PUBLIC_URL ?? issuer).replace(/\/+$/, ''),
    requireVerifiedEmail: (e.TESSERA_REQUIRE_VERIFIED_EMAIL ?? (production ? 'on' : 'off')) === 'on',
    newDeviceAlerts: e.TESSERA_NEW_DEVICE_ALERTS === 'on',
  };
}
