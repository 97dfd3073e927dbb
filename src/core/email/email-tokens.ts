import type { EmailTokenPurpose, EmailTokenRecord, EmailTokenStore } from '../../store/ports/email-tokens.js';
import { AuthError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { issueToken, parseToken, secretMatches } from '../tokens.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * How long a mailed link works. A reset link opens the account, so it is short (OWASP's
 * forgot-password guidance: minutes); a verification or change link only proves an address, so
 * a day allows for a slow inbox; undo and "this wasn't me" protect the owner after an attack,
 * so they last the week an owner may take to read their mail.
 */
export const EMAIL_TOKEN_LIFETIME_MS: Readonly<Record<EmailTokenPurpose, number>> = {
  verify: DAY,
  reset: 15 * MINUTE,
  change: DAY,
  undo: 7 * DAY,
  not_me: 7 * DAY,
};

/** Purposes where only the newest link works: a new one ends the older ones. */
const NEWEST_ONLY: ReadonlySet<EmailTokenPurpose> = new Set(['verify', 'reset', 'change']);

const invalid = () =>
  new AuthError('token_invalid', 'This link is not valid: use the newest link from your email.');

/**
 * The single-use tokens of mailed links: `<id>.<secret>` (core/tokens.ts), only the hash
 * stored, bound to one purpose and one user. A token is reported used or expired only when its
 * secret matched, so a guessed id learns nothing.
 */
export class EmailTokens {
  constructor(
    private readonly store: EmailTokenStore,
    private readonly runtime: Runtime,
  ) {}

  /** A new token for the link; the raw token goes into the mail and nowhere else. */
  async issue(userId: string, purpose: EmailTokenPurpose, email: string): Promise<string> {
    const now = this.runtime.now();
    if (NEWEST_ONLY.has(purpose)) await this.store.retireEmailTokens(userId, purpose, now);
    const { id, token, secretHash } = issueToken(this.runtime);
    await this.store.createEmailToken({
      id,
      userId,
      purpose,
      secretHash,
      email,
      createdAt: now,
      expiresAt: now + EMAIL_TOKEN_LIFETIME_MS[purpose],
      usedAt: null,
    });
    return token;
  }

  /** The live token behind `presented`, without using it (checks that may still refuse come first). */
  async check(presented: string, purpose: EmailTokenPurpose): Promise<EmailTokenRecord> {
    const parsed = parseToken(presented);
    const record = parsed && (await this.store.findEmailToken(parsed.id));
    if (
      !parsed ||
      !record ||
      record.purpose !== purpose ||
      !secretMatches(parsed.secret, record.secretHash)
    ) {
      throw invalid();
    }
    if (record.usedAt !== null) {
      throw new AuthError('token_used', 'This link has already been used (or a newer one replaced it).');
    }
    if (this.runtime.now() >= record.expiresAt) {
      throw new AuthError('link_expired', 'This link has expired: ask for a new one.');
    }
    return record;
  }

  /** Uses a checked token: exactly one of any number of racing uses wins. */
  async use(record: EmailTokenRecord): Promise<void> {
    if (!(await this.store.useEmailToken(record.id, this.runtime.now()))) {
      throw new AuthError('token_used', 'This link has already been used.');
    }
  }

  async consume(presented: string, purpose: EmailTokenPurpose): Promise<EmailTokenRecord> {
    const record = await this.check(presented, purpose);
    await this.use(record);
    return record;
  }

  retireAll(userId: string, purpose: EmailTokenPurpose): Promise<number> {
    return this.store.retireEmailTokens(userId, purpose, this.runtime.now());
  }

  sweep(): Promise<number> {
    return this.store.deleteExpiredEmailTokens(this.runtime.now());
  }
}
