import { asciiDomain, canonicalEmailKey } from './email-key.js';
import { AuthError } from './errors.js';

/** RFC 5321's limit on a forward path; also keeps index keys small. */
const MAX_EMAIL_LENGTH = 254;
// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven by
// sending mail, not by a regular expression.
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/u;

// Control, format (bidi overrides, zero-width) and surrogate code points: an address with them
// would display as someone else's in device and admin lists.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/u;

const invalidEmail = () =>
  new AuthError('invalid_email', 'Enter a valid email address, like name@example.com.');

/** A registered address: as the user typed it (shown), and its canonical key (unique, looked up). */
export interface Email {
  display: string;
  key: string;
}

/**
 * The display form: trimmed, NFC, domain lower-cased (domains are case-insensitive by DNS);
 * the local part keeps the case the user typed. Throws `invalid_email` on a wrong shape.
 */
export function normalizeEmail(input: string): string {
  const trimmed = input.normalize('NFC').trim();
  const at = trimmed.lastIndexOf('@');
  const email = at < 0 ? trimmed : `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
  if (email.length > MAX_EMAIL_LENGTH || !EMAIL_SHAPE.test(email) || INVISIBLE.test(email)) {
    throw invalidEmail();
  }
  if (asciiDomain(email.slice(at + 1)) === undefined) throw invalidEmail();
  return email;
}

/** True when `input` is a syntactically valid address (what normalizeEmail accepts). */
export function isValidEmail(input: string): boolean {
  try {
    normalizeEmail(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * A new address (registration): valid, no part mixing scripts, with its canonical key.
 * Addresses are case-insensitive for Tessera, whatever RFC 5321 allows a mail server: two
 * accounts `Ada@` and `ada@` would be one person's or an impersonation, never two people.
 */
export function parseNewEmail(input: string): Email {
  const display = normalizeEmail(input);
  const at = display.lastIndexOf('@');
  for (const part of [display.slice(0, at), ...display.slice(at + 1).split('.')]) {
    if (mixesScripts(part)) {
      throw new AuthError(
        'invalid_email',
        'This email address mixes alphabets (for example Latin and Cyrillic letters); type it in one.',
      );
    }
  }
  return { display, key: canonicalEmailKey(display) };
}

/** The key to look an account up by, for any typed address (login, admin search, rate limits). */
export function emailLookupKey(input: string): string {
  return canonicalEmailKey(normalizeEmail(input));
}

/**
 * Scripts told apart for the mixed-script rule; a letter of any other script counts as
 * "Other". Digits, punctuation and combining marks (Common, Inherited) belong to no script.
 */
const SCRIPTS = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Georgian',
  'Hebrew',
  'Arabic',
  'Devanagari',
  'Bengali',
  'Tamil',
  'Thai',
  'Ethiopic',
  'Han',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Hangul',
].map((name) => ({ name, pattern: new RegExp(`\\p{Script=${name}}`, 'u') }));
const NO_SCRIPT = /[\p{Script=Common}\p{Script=Inherited}]/u;

/**
 * TS 39's "highly restrictive" level: one script, or Latin with the scripts that are written
 * together (Japanese: Han + Hiragana + Katakana; Chinese: Han + Bopomofo; Korean: Han + Hangul).
 */
const ALLOWED_SCRIPT_MIXES = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

/** True when `text` (NFKC-folded, so fullwidth Latin counts as Latin) mixes scripts. */
export function mixesScripts(text: string): boolean {
  const scripts = new Set<string>();
  for (const character of text.normalize('NFKC')) {
    if (NO_SCRIPT.test(character)) continue;
    scripts.add(SCRIPTS.find((s) => s.pattern.test(character))?.name ?? 'Other');
  }
  if (scripts.size <= 1) return false;
  return !ALLOWED_SCRIPT_MIXES.some((allowed) => [...scripts].every((s) => allowed.has(s)));
}
