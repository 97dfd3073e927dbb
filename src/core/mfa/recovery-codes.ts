import { createHash } from 'node:crypto';
import type { SecondFactorStore } from '../../store/ports/second-factors.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';

export const RECOVERY_CODE_COUNT = 10;
/** Crockford-like base32 without look-alikes (no i, l, o, u): codes are read off paper. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 10 characters of 32: 50 bits each; guessing one of ten under the attempt limit is hopeless. */
const CODE_LENGTH = 10;
const SHAPE = /^[0-9a-z]{10}$/;

/**
 * Recovery codes: ten single-use codes shown once when a factor is confirmed (or regenerated:
 * the old ones all die), stored only as SHA-256. High-entropy random codes need no slow hash:
 * a stolen table cannot be brute-forced back at 50 bits per code and SHA-256's speed
 * (unlike a password, nothing here was chosen by a human).
 */
export class RecoveryCodes {
  constructor(private readonly deps: { store: SecondFactorStore; runtime: Runtime }) {}

  /** Ten new codes replacing any old ones; shown to the user once, as `xxxxx-xxxxx`. */
  async generate(userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => this.#code());
    await this.deps.store.replaceRecoveryCodes(userId, codes.map(hashOf), this.deps.runtime.now());
    return codes.map((code) => `${code.slice(0, 5)}-${code.slice(5)}`);
  }

  /** Spends a code: 401 mfa_code_invalid when it is wrong, malformed or already used. */
  async use(userId: string, presented: unknown): Promise<{ remaining: number }> {
    const code = normalise(presented);
    if (!code || !(await this.deps.store.useRecoveryCode(userId, hashOf(code), this.deps.runtime.now()))) {
      throw new AuthError('mfa_code_invalid');
    }
    return { remaining: await this.remaining(userId) };
  }

  async remaining(userId: string): Promise<number> {
    return (await this.deps.store.listRecoveryCodes(userId)).filter((c) => c.usedAt === null).length;
  }

  remove(userId: string): Promise<number> {
    return this.deps.store.deleteRecoveryCodes(userId);
  }

  #code(): string {
    // 32 symbols: one byte's low 5 bits each, so every symbol is equally likely.
    const bytes = this.deps.runtime.randomBytes(CODE_LENGTH);
    return [...bytes].map((byte) => ALPHABET[byte & 31]).join('');
  }
}

/** Lower case, dashes and spaces dropped; anything else that is not a code's shape → undefined. */
function normalise(presented: unknown): string | undefined {
  if (typeof presented !== 'string' || presented.length > 40) return undefined;
  const code = presented.toLowerCase().replace(/[\s-]/g, '');
  return SHAPE.test(code) ? code : undefined;
}

const hashOf = (code: string) => createHash('sha256').update(`tessera-recovery:${code}`).digest('hex');
