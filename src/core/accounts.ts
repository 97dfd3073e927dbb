import { EmailTakenError, type UserRecord, type UserStore } from '../store/ports/index.js';
import { normalizeEmail } from './email.js';
import { AuthError, invalidCredentials } from './errors.js';
import {
  assertAcceptablePassword,
  hashPassword,
  needsRehash,
  normalizePassword,
  verifyPassword,
} from './passwords.js';
import type { Runtime } from './runtime.js';
import { newRandomId } from './tokens.js';

export interface Credentials {
  email: string;
  password: string;
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
  ) {
    this.#dummyHash = this.#newDummyHash();
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
    const email = normalizeEmail(input.email);
    const password = normalizePassword(input.password);
    assertAcceptablePassword(password, email);
    const now = this.runtime.now();
    const user: UserRecord = {
      id: newRandomId(this.runtime),
      email,
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
      // limiting (not silence) is what keeps this from becoming an enumeration oracle.
      if (error instanceof EmailTakenError) {
        throw new AuthError('email_taken', 409, 'An account with this email already exists; log in instead.');
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
    let email: string;
    try {
      email = normalizeEmail(input.email);
    } catch {
      email = '';
    }
    const user = email ? await this.store.findUserByEmail(email) : undefined;
    if (!user) {
      await verifyPassword(await this.#dummy(), password);
      throw invalidCredentials();
    }
    const valid = await verifyPassword(user.passwordHash, password);
    if (!valid || user.lockedAt !== null) throw invalidCredentials();
    if (needsRehash(user.passwordHash)) {
      user.passwordHash = await hashPassword(password);
      user.updatedAt = this.runtime.now();
      await this.store.setPasswordHash(user.id, user.passwordHash, user.updatedAt);
    }
    return user;
  }

  /** Checks the current password, then stores the new one. Ending sessions is the caller's job. */
  async changePassword(userId: string, currentPassword: string, newPassword: string): Promise<void> {
    const user = await this.store.findUserById(userId);
    if (!user || !(await verifyPassword(user.passwordHash, normalizePassword(currentPassword)))) {
      throw new AuthError('invalid_current_password', 403, 'The current password is incorrect.');
    }
    const password = normalizePassword(newPassword);
    assertAcceptablePassword(password, user.email);
    await this.store.setPasswordHash(user.id, await hashPassword(password), this.runtime.now());
  }

  findById(userId: string): Promise<UserRecord | undefined> {
    return this.store.findUserById(userId);
  }

  findByEmail(email: string): Promise<UserRecord | undefined> {
    return this.store.findUserByEmail(normalizeEmail(email));
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
}
