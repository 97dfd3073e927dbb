import { AuthError } from './errors.js';

/** RFC 5321's limit on a forward path; also keeps index keys small. */
const MAX_EMAIL_LENGTH = 254;
// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven by
// sending mail, not by a regular expression.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

// Control, format (bidi overrides, zero-width) and surrogate code points: an address with them
// would display as someone else's in device and admin lists.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/u;

/**
 * Trim, NFC, and lower-case the domain (domains are case-insensitive by DNS). The local part
 * keeps its case because RFC 5321 lets a mail server treat it as case-sensitive.
 */
export function normalizeEmail(input: string): string {
  const trimmed = input.normalize('NFC').trim();
  const at = trimmed.lastIndexOf('@');
  const email = at < 0 ? trimmed : `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(email) || INVISIBLE.test(email)) {
    throw new AuthError('invalid_email');
  }
  return email;
}
