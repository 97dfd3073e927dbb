import type { EmailVerificationStore } from '../../store/ports/email-verifications.js';
import type { UserRecord, UserStore } from '../../store/ports/index.js';
import { EmailTakenError } from '../../store/ports/index.js';
import type { Accounts } from '../accounts.js';
import type { Audit } from '../audit.js';
import { emailLookupKey, parseNewEmail } from '../email.js';
import { canonicalEmailKey } from '../email-key.js';
import { AuthError } from '../errors.js';
import { normalizePassword, verifyPassword } from '../passwords.js';
import type { Runtime } from '../runtime.js';
import type { ClientContext, Sessions } from '../sessions.js';
import { issueToken } from '../tokens.js';
import type { EmailTokens } from './email-tokens.js';
import { type MailQueue, pageLink } from './mail-queue.js';
import { changeMail, changeNoticeMail, resetMail, verifyMail } from './messages.js';

/** The lock reason a "this wasn't me" link sets; only a lock with exactly this reason is lifted by a reset. */
export const NOT_ME_LOCK_REASON = 'locked by the owner: a new-device alert said "this wasn\'t me"';

/** Verified users remembered per process (verification only ever turns on): bounded, cleared whole. */
const VERIFIED_MEMO_SIZE = 10_000;
/**
 * "Not verified" is remembered this long, so GET /auth/session of an unverified user is not one
 * more query per request; a verification made on another node shows here within this delay.
 */
const UNVERIFIED_MEMO_MS = 5_000;

export interface AccountEmailDeps {
  users: UserStore;
  /** The password policy and breach check every new password passes. */
  accounts: Pick<Accounts, 'hashAcceptablePassword'>;
  verifications: EmailVerificationStore;
  tokens: EmailTokens;
  mail: MailQueue;
  sessions: Sessions;
  audit: Audit;
  runtime: Runtime;
  publicUrl: string;
  requireVerifiedEmail: boolean;
}

/**
 * Account recovery and verification by email: prove an address, reset a forgotten password,
 * change the address (confirmed by the new one, undoable from the old one). Every link is a
 * single-use token (email-tokens.ts); every event is audited.
 */
export class AccountEmail {
  readonly #verified = new Map<string, string>();
  /** userId → until when "not verified" is believed without asking the store. */
  readonly #unverifiedUntil = new Map<string, number>();

  constructor(private readonly deps: AccountEmailDeps) {}

  /**
   * The memo's answer, without a promise: true when the address (by id alone: `email`
   * omitted, as isVerifiedById) is known proven, false while a recent store read said it was
   * not, undefined when only the store can tell. GET /auth/session asks this first, so a
   * remembered answer costs no await on the hot path.
   */
  knownVerified(userId: string, email?: string): boolean | undefined {
    const proven = this.#verified.get(userId);
    if (proven !== undefined && (email === undefined || proven === email)) return true;
    if ((this.#unverifiedUntil.get(userId) ?? 0) > this.deps.runtime.now()) return false;
    return undefined;
  }

  /** Whether the user's current address has been proven by a link. */
  async isVerified(user: Pick<UserRecord, 'id' | 'email'>, fresh = false): Promise<boolean> {
    if (this.#verified.get(user.id) === user.email) return true;
    const now = this.deps.runtime.now();
    if (!fresh && (this.#unverifiedUntil.get(user.id) ?? 0) > now) return false;
    const email = await this.deps.verifications.verifiedEmail(user.id);
    if (email === undefined || email !== user.email) {
      if (this.#unverifiedUntil.size >= VERIFIED_MEMO_SIZE) this.#unverifiedUntil.clear();
      this.#unverifiedUntil.set(user.id, now + UNVERIFIED_MEMO_MS);
      return false;
    }
    this.#remember(user.id, email);
    return true;
  }

  /**
   * By id alone (jwt modes, where the request carried no user record). Every address change
   * here is itself proven by a link, so a user once verified stays verified: the memo needs no email.
   */
  async isVerifiedById(userId: string): Promise<boolean> {
    if (this.#verified.has(userId)) return true;
    if ((this.#unverifiedUntil.get(userId) ?? 0) > this.deps.runtime.now()) return false;
    const user = await this.deps.users.findUserById(userId);
    return user !== undefined && (await this.isVerified(user));
  }

  /** The proven addresses of many users (admin lists): the ids whose current address is proven. */
  async verifiedUserIds(users: ReadonlyArray<Pick<UserRecord, 'id' | 'email'>>): Promise<Set<string>> {
    const proven = await this.deps.verifications.verifiedEmails(users.map((u) => u.id));
    return new Set(users.filter((u) => proven.get(u.id) === u.email).map((u) => u.id));
  }

  /** TESSERA_REQUIRE_VERIFIED_EMAIL: called after the password was checked, so it reveals nothing. */
  async assertMayLogIn(user: UserRecord): Promise<void> {
    if (this.deps.requireVerifiedEmail && !(await this.isVerified(user, true))) {
      throw new AuthError(
        'email_unverified',
        'Confirm your email address first: follow the link we sent you, or ask for a new one (POST /auth/email/verify/resend).',
      );
    }
  }

  /** Mails a verification link (at registration, on request, or by an admin). Nothing when already proven. */
  async sendVerification(user: UserRecord, facts: { client: ClientContext; actorId?: string | null }) {
    if (await this.isVerified(user, true)) return false;
    const token = await this.deps.tokens.issue(user.id, 'verify', user.email);
    await this.deps.mail.enqueue(
      'verify',
      user.email,
      user.id,
      verifyMail(pageLink(this.deps.publicUrl, 'verify-email', token)),
    );
    await this.deps.audit.record('email.verification_sent', { ...facts, userId: user.id });
    return true;
  }

  /** Unauthenticated resend: same work and same answer whether or not the address has an account. */
  async resendVerification(email: string, client: ClientContext): Promise<void> {
    const user = await this.#userByEmail(email);
    if (user) await this.sendVerification(user, { client });
  }

  async verify(presented: string, client: ClientContext): Promise<UserRecord> {
    const record = await this.deps.tokens.check(presented, 'verify');
    const user = await this.deps.users.findUserById(record.userId);
    // The address changed since the link was sent: it proves an address the account no longer has.
    if (!user || user.email !== record.email) {
      throw new AuthError('token_invalid', 'This link is for an address your account no longer uses.');
    }
    await this.deps.tokens.use(record);
    await this.#markVerified(user.id, user.email);
    await this.deps.audit.record('email.verified', { userId: user.id, client });
    return user;
  }

  /**
   * Forgot password. Unknown addresses do the same work up to the writes (a lookup and a token
   * made and hashed), and the route answers before any of it: neither body nor time tells.
   */
  async requestPasswordReset(email: string, client: ClientContext): Promise<void> {
    const user = await this.#userByEmail(email);
    if (!user) {
      issueToken(this.deps.runtime);
      return;
    }
    const token = await this.deps.tokens.issue(user.id, 'reset', user.email);
    await this.deps.mail.enqueue(
      'reset',
      user.email,
      user.id,
      resetMail(pageLink(this.deps.publicUrl, 'reset-password', token)),
    );
    await this.deps.audit.record('password.reset_requested', { userId: user.id, client });
  }

  /**
   * Sets a new password from a reset link: the policy is checked before the link is used (a
   * refused password leaves it working), then every login of the user ends, in every mode and
   * on every node (Sessions.endUserLogins with the new hash, one transaction, as a password change), every other reset link
   * ends, and a lock the owner set with "this wasn't me" is lifted (an admin's lock never is).
   */
  async resetPassword(
    presented: string,
    newPassword: string,
    client: ClientContext,
  ): Promise<{ user: UserRecord; revokedSessions: number; unlocked: boolean }> {
    const record = await this.deps.tokens.check(presented, 'reset');
    const user = await this.deps.users.findUserById(record.userId);
    if (!user)
      throw new AuthError('token_invalid', 'This link is not valid: use the newest link from your email.');
    const password = normalizePassword(newPassword);
    const passwordHash = await this.deps.accounts.hashAcceptablePassword(password, user.email);
    await this.deps.tokens.use(record);
    const now = this.deps.runtime.now();
    await this.deps.tokens.retireAll(user.id, 'reset');
    const unlocked = user.lockedAt !== null && user.lockReason === NOT_ME_LOCK_REASON;
    // One transaction: the new password (and the lifted "not me" lock), every login and every
    // API key of the user ended, and in hybrid mode the revocation record for every node.
    const { sessions: revokedSessions } = await this.deps.sessions.endUserLogins(user.id, {
      cause: 'password_reset',
      account: {
        passwordHash,
        updatedAt: now,
        ...(unlocked && { lock: { lockedAt: null, reason: null } }),
      },
    });
    // Following the link proved the address too.
    if (user.email === record.email) await this.#markVerified(user.id, user.email);
    await this.deps.audit.record('password.reset', {
      userId: user.id,
      client,
      detail: { revokedSessions, unlocked },
    });
    return {
      user: { ...user, passwordHash, lockedAt: unlocked ? null : user.lockedAt },
      revokedSessions,
      unlocked,
    };
  }

  /**
   * Starts an email change: the current password is asked again (a stolen session alone cannot
   * take the account), and a link goes to the new address. Uniqueness is checked when the link
   * is followed; an address already taken gets no mail now (and the answer is the same).
   */
  async requestEmailChange(userId: string, newEmail: string, password: string, client: ClientContext) {
    const user = await this.deps.users.findUserById(userId);
    if (!user || !(await verifyPassword(user.passwordHash, normalizePassword(password)))) {
      throw new AuthError('invalid_current_password', 'The current password is incorrect.');
    }
    const { display: email, key } = parseNewEmail(newEmail);
    if (key === user.emailKey) {
      throw new AuthError('email_unchanged', 'This is already the address of your account.');
    }
    if (await this.deps.users.findUserByEmailKey(key)) return;
    const token = await this.deps.tokens.issue(user.id, 'change', email);
    await this.deps.mail.enqueue(
      'change',
      email,
      user.id,
      changeMail(pageLink(this.deps.publicUrl, 'confirm-email', token)),
    );
    await this.deps.audit.record('email.change_requested', { userId, client });
  }

  /** The new address proved itself: the account moves to it, and the old address gets a notice with an undo link. */
  async confirmEmailChange(presented: string, client: ClientContext): Promise<UserRecord> {
    const record = await this.deps.tokens.check(presented, 'change');
    const user = await this.deps.users.findUserById(record.userId);
    if (!user)
      throw new AuthError('token_invalid', 'This link is not valid: use the newest link from your email.');
    await this.#moveTo(user, record.email);
    await this.deps.tokens.use(record);
    await this.#markVerified(user.id, record.email);
    const undo = await this.deps.tokens.issue(user.id, 'undo', user.email);
    await this.deps.mail.enqueue(
      'change_notice',
      user.email,
      user.id,
      changeNoticeMail(pageLink(this.deps.publicUrl, 'undo-email-change', undo), record.email),
    );
    await this.deps.audit.record('email.changed', { userId: user.id, client });
    return { ...user, email: record.email };
  }

  /**
   * Undo from the old address: the account goes back to it, and since the change may have been
   * an attacker's, every login ends and pending change links die. The owner then resets the password.
   */
  async undoEmailChange(
    presented: string,
    client: ClientContext,
  ): Promise<{ user: UserRecord; revokedSessions: number }> {
    const record = await this.deps.tokens.check(presented, 'undo');
    const user = await this.deps.users.findUserById(record.userId);
    if (!user)
      throw new AuthError('token_invalid', 'This link is not valid: use the newest link from your email.');
    if (user.email !== record.email) await this.#moveTo(user, record.email);
    await this.deps.tokens.use(record);
    await this.deps.tokens.retireAll(user.id, 'change');
    await this.#markVerified(user.id, record.email);
    const revokedSessions = await this.deps.sessions.revokeAllOfUser(
      user.id,
      undefined,
      'email_change_undone',
    );
    await this.deps.audit.record('email.change_undone', {
      userId: user.id,
      client,
      detail: { revokedSessions },
    });
    return { user: { ...user, email: record.email }, revokedSessions };
  }

  async #moveTo(user: UserRecord, email: string): Promise<void> {
    try {
      await this.deps.users.setUserEmail(user.id, email, canonicalEmailKey(email), this.deps.runtime.now());
    } catch (error) {
      if (error instanceof EmailTakenError) {
        throw new AuthError(
          'email_taken',
          'Another account uses this address now; the change cannot be made.',
        );
      }
      throw error;
    }
  }

  async #markVerified(userId: string, email: string): Promise<void> {
    await this.deps.verifications.markEmailVerified(userId, email, this.deps.runtime.now());
    this.#remember(userId, email);
  }

  #remember(userId: string, email: string): void {
    if (this.#verified.size >= VERIFIED_MEMO_SIZE) this.#verified.clear();
    this.#verified.set(userId, email);
    this.#unverifiedUntil.delete(userId);
  }

  async #userByEmail(email: string): Promise<UserRecord | undefined> {
    try {
      return await this.deps.users.findUserByEmailKey(emailLookupKey(email));
    } catch (error) {
      if (error instanceof AuthError) return undefined;
      throw error;
    }
  }
}
