import { availableParallelism } from 'node:os';
import type { Algorithm } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { AuthError } from './errors.js';
import { PasswordHasher } from './password-hasher.js';

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
      `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`,
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new AuthError(
      'password_too_long',
      `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`,
    );
  }
  const lowered = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lowered)) {
    throw new AuthError('password_too_common');
  }
  if (email && (lowered === email.toLowerCase() || lowered === email.split('@')[0]?.toLowerCase())) {
    throw new AuthError('password_matches_email');
  }
}

/**
 * Hashing runs on one process-wide PasswordHasher (low-priority worker threads, like the
 * libuv threadpool it replaces: cores are the process's, not an instance's). It starts on
 * first use; each createTessera holds it open with usePasswordHashing and the last close ends it.
 */
let hasher: PasswordHasher | undefined;
let hashThreads = availableParallelism();
let holders = 0;

function passwordHasher(): PasswordHasher {
  hasher ??= new PasswordHasher({
    threads: hashThreads,
    onWarning: (message) => process.emitWarning(message, { code: 'TESSERA_PASSWORD_HASH_PRIORITY' }),
    onJobStarted: (waitedMs) => {
      for (const listener of hashWaitListeners) listener(waitedMs);
    },
  });
  return hasher;
}

const hashWaitListeners = new Set<(waitedMs: number) => void>();

/**
 * The process's hashing queue as metrics see it: `listener` hears how long each job waited for
 * a thread (every instance's jobs: the pool is shared); the returned function stops it.
 */
export function observePasswordHashWaits(listener: (waitedMs: number) => void): () => void {
  hashWaitListeners.add(listener);
  return () => hashWaitListeners.delete(listener);
}

/** Jobs now waiting for a hashing thread (0 while the pool is not running). */
export function passwordHashQueueDepth(): number {
  return hasher?.queued ?? 0;
}

/**
 * Holds the password-hashing threads open with this many threads (TESSERA_PASSWORD_HASH_THREADS);
 * the returned function lets go, and the last holder's release ends the threads (jobs still
 * pending then are rejected).
 */
export function usePasswordHashing(threads: number): () => Promise<void> {
  hashThreads = threads;
  hasher?.resize(threads);
  holders++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    holders--;
    if (holders > 0 || !hasher) return;
    const closing = hasher;
    hasher = undefined;
    await closing.close();
  };
}

/** Rejects with AuthError `busy` (503) when too many hashes are already waiting for a thread. */
export function hashPassword(password: string): Promise<string> {
  return passwordHasher().hash(password, ARGON2_PARAMS);
}

/**
 * False for a wrong password and for a malformed stored hash (which must never let anyone in,
 * nor crash the request); rejects only when the hashing itself could not run (`busy`, closed).
 */
export function verifyPassword(phc: string, password: string): Promise<boolean> {
  return passwordHasher().verify(phc, password);
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
