import { EmailTakenError, type UserRecord, type UserStore } from '../store/ports/index.js';
import { emailLookupKey, parseNewEmail } from './email.js';
import { emailKeyPrefix } from './email-key.js';
import { AuthError, invalidCredentials } from './errors.js';
import {
  assertAcceptablePassword,
  hashPassword,
  needsRehash,
  normalizePassword,
  verifyPassword,
} from './passwords.js';
import type { Runtime } from './runtime.js';
import { silentTelemetry, type Telemetry } from './telemetry.js';
import { newRandomId } from './tokens.js';

export interface Credentials {
  email: string;
  password: string;
}

/**
 * Whether a password appears in known breaches (TESSERA_BREACHED_PASSWORDS; the Have I Been
 * Pwned client is src/breached-passwords.ts). An implementation that cannot tell answers false
 * and reports it: the decision to fail open is the implementation's, documented there.
 */
export interface BreachedPasswordCheck {
  isBreached(password: string): Promise<boolean>;
}

/** Users and their passwords: register, authenticate, change password. */
export class Accounts {
  /**
   * A real argon2id hash of a random password, made once at start, that unknown emails are
   * verified against so they cost the same as known ones.
   */
  #dummyHash: Promise<string>;

  constructor(
    private readonly store: UserStore,
    private readonly runtime: Runtime,
    private readonly breachedPasswords?: BreachedPasswordCheck,
    /** Counts failed logins by outcome (a locked account answers like a wrong password). */
    private readonly telemetry: Telemetry = silentTelemetry,
  ) {
    this.#dummyHash = this.#newDummyHash();
  }

  /** The policy's rules, then (when configured) the breach corpus: every new password meets both. */
  async #assertNewPassword(password: string, email: string): Promise<void> {
    assertAcceptablePassword(password, email);
    if (await this.breachedPasswords?.isBreached(password)) {
      throw new AuthError(
        'password_breached',
        'This password has appeared in a data breach (Have I Been Pwned), so attackers try it first. Choose another.',
      );
    }
  }

  /**
   * The hash of a new password that passes the policy and the breach check, for a caller that
   * proved the right to set it another way (a reset link): ended logins go with it in one
   * transaction (Sessions.endUserLogins with `account.passwordHash`).
   */
  async hashAcceptablePassword(password: string, email: string): Promise<string> {
    await this.#assertNewPassword(password, email);
    return hashPassword(password);
  }

  /** Made in the background; a failure (hasher busy or closed) shows when the hash is used. */
  #newDummyHash(): Promise<string> {
    const dummy = hashPassword(this.runtime.randomBytes(32).toString('base64url'));
    dummy.catch(() => undefined);
    return dummy;
  }

  /** The dummy hash, made again if making it failed. */
  async #dummy(): Promise<string> {
    try {
      return await this.#dummyHash;
    } catch {
      this.#dummyHash = this.#newDummyHash();
      return this.#dummyHash;
    }
  }

  async register(input: Credentials, roles: string[] = []): Promise<UserRecord> {
    const { display: email, key: emailKey } = parseNewEmail(input.email);
    const password = normalizePassword(input.password);
    await this.#assertNewPassword(password, email);
    const now = this.runtime.now();
    const user: UserRecord = {
      id: newRandomId(this.runtime),
      email,
      emailKey,
      passwordHash: await hashPassword(password),
      roles: [...new Set(roles)],
      lockedAt: null,
      lockReason: null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.store.createUser(user);
    } catch (error) {
      // Telling a registrant the address is taken is unavoidable in a sign-up form; rate
      // limiting (not silence) is what keeps this from becoming an enumeration oracle. Taken
      // means taken by any address with the same canonical key (case, look-alikes: email-key.ts).
      if (error instanceof EmailTakenError) {
        throw new AuthError('email_taken');
      }
      throw error;
    }
    return user;
  }

  /**
   * The user whose password this is, or `invalid_credentials`. Unknown email, wrong password
   * and locked account all cost one argon2id verification and fail the same way, so neither
   * the body nor the timing tells which it was.
   */
  async authenticate(input: Credentials): Promise<UserRecord> {
    const password = normalizePassword(input.password);
    let emailKey: string;
    try {
      emailKey = emailLookupKey(input.email);
    } catch {
      emailKey = '';
    }
    const user = emailKey ? await this.store.findUserByEmailKey(emailKey) : undefined;
    if (!user) {
      await verifyPassword(await this.#dummy(), password);
      this.telemetry.login('failure');
      throw invalidCredentials();
    }
    const valid = await verifyPassword(user.passwordHash, password);
    if (!valid || user.lockedAt !== null) {
      this.telemetry.login(user.lockedAt !== null ? 'locked' : 'failure');
      throw invalidCredentials();
    }
    if (needsRehash(user.passwordHash)) {
      user.passwordHash = await hashPassword(password);
      user.updatedAt = this.runtime.now();
      await this.store.setPasswordHash(user.id, user.passwordHash, user.updatedAt);
    }
    return user;
  }

  /**
   * Checks the current password and the new one; the new one's hash, for the caller to store
   * in the same transaction that ends the user's other logins (Sessions.endUserLogins).
   */
  async newPasswordHash(userId: string, currentPassword: string, newPassword: string): Promise<string> {
    const user = await this.store.findUserById(userId);
    if (!user || !(await verifyPassword(user.passwordHash, normalizePassword(currentPassword)))) {
      throw new AuthError('invalid_current_password');
    }
    const password = normalizePassword(newPassword);
    await this.#assertNewPassword(password, user.email);
    return hashPassword(password);
  }

  /**
   * Checks the current password, then stores the new one; ending the other logins is the
   * caller's job. Prefer newPasswordHash + Sessions.endUserLogins (POST /auth/password): one
   * transaction, so a failure cannot leave the new password with the old logins still live.
   */
  async changePassword(userId: string, currentPassword: string, newPassword: string): Promise<void> {
    const passwordHash = await this.newPasswordHash(userId, currentPassword, newPassword);
    await this.store.setPasswordHash(userId, passwordHash, this.runtime.now());
  }

  /**
   * A fresh proof that the caller knows the account's password, before anything long-lived is
   * made (an API key): a stolen session or access token alone is not enough.
   */
  async confirmPassword(userId: string, password: string | undefined): Promise<void> {
    if (password === undefined) {
      throw new AuthError('password_required', 'Confirm your password (the `password` field) to do this.');
    }
    const user = await this.store.findUserById(userId);
    if (
      !user ||
      user.lockedAt !== null ||
      !(await verifyPassword(user.passwordHash, normalizePassword(password)))
    ) {
      throw new AuthError('invalid_password', 'The password is incorrect.');
    }
  }

  findById(userId: string): Promise<UserRecord | undefined> {
    return this.store.findUserById(userId);
  }

  findByEmail(email: string): Promise<UserRecord | undefined> {
    return this.store.findUserByEmailKey(emailLookupKey(email));
  }

  /**
   * A user by id, or by email when it has an `@` (operators type either): the one lookup the
   * admin APIs use. An invalid address is 400 `invalid_email`; a store that cannot answer
   * throws (503), never "no such user".
   */
  async findByIdOrEmail(idOrEmail: string): Promise<UserRecord | undefined> {
    return idOrEmail.includes('@') ? this.findByEmail(idOrEmail) : this.findById(idOrEmail);
  }

  list(): Promise<UserRecord[]> {
    return this.store.listUsers();
  }

  /**
   * One page of users ordered by canonical address; `search`: what an operator typed, matched as
   * a prefix of the canonical address (case and look-alikes folded). Next page: after the last
   * row's emailKey.
   */
  page(query: { afterEmailKey?: string; limit: number; search?: string }): Promise<UserRecord[]> {
    return this.store.listUsersPage({
      afterEmailKey: query.afterEmailKey,
      limit: query.limit,
      emailKeyPrefix: query.search ? emailKeyPrefix(query.search.trim()) : undefined,
    });
  }
}
