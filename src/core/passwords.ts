import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { AuthError } from './errors.js';

/**
 * Password hashing: argon2id with OWASP's first recommended setting (m=19 MiB, t=2, p=1).
 * The PHC string stores its own parameters, so a hash made under older settings is
 * recognised and re-hashed on the next successful login.
 */
export const ARGON2_PARAMS = {
  // @node-rs/argon2 declares Algorithm as a const enum, which isolated modules cannot read: 2 is Argon2id.
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
};

export const MIN_PASSWORD_LENGTH = 8;
/** Long enough for any passphrase, short enough that hashing it is not a DoS lever. */
export const MAX_PASSWORD_LENGTH = 1024;

// zxcvbn-ts's list of ~49k passwords seen most in breaches; shorter ones fail the length rule anyway.
const COMMON_PASSWORDS = new Set(
  dictionary['passwords-common']
    .map((p) => String(p).toLowerCase())
    .filter((p) => p.length >= MIN_PASSWORD_LENGTH),
);

/**
 * NFKC first, so the same passphrase typed on two keyboards (full-width digits, ligatures,
 * composed vs decomposed accents) hashes the same. Length counts code points, not UTF-16 units.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Throws a 400 that says what to fix when a new password is not acceptable. */
export function assertAcceptablePassword(password: string, email?: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new AuthError(
      'password_too_short',
      400,
      `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`,
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new AuthError(
      'password_too_long',
      400,
      `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`,
    );
  }
  const lowered = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lowered)) {
    throw new AuthError(
      'password_too_common',
      400,
      'This password is one of the most common passwords in breach lists; choose another.',
    );
  }
  if (email && (lowered === email.toLowerCase() || lowered === email.split('@')[0]?.toLowerCase())) {
    throw new AuthError('password_matches_email', 400, 'The password must not be your email address.');
  }
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    // A malformed stored hash must never let anyone in, nor crash the request.
    return false;
  }
}

/** True when a stored hash was made with other parameters than the current ones. */
export function needsRehash(phc: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(phc);
  if (!match) return true;
  return (
    Number(match[1]) !== ARGON2_PARAMS.memoryCost ||
    Number(match[2]) !== ARGON2_PARAMS.timeCost ||
    Number(match[3]) !== ARGON2_PARAMS.parallelism
  );
}
