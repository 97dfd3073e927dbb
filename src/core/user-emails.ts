import type { UserStore } from '../store/ports/index.js';

/**
 * The email address of a user id, for `GET /auth/session` in jwt and hybrid modes: there the
 * request is checked against the access token alone, which carries no personal data, yet apps
 * must be able to say "Signed in as ada@example.com". The address comes from the store, never
 * from the token: rows Tessera reads anyway (every login, refresh and password change reads the
 * user to sign the token) are remembered here, and a miss (another node logged the user in, or
 * this one restarted) costs one store read, then is remembered too. So a node reads a user's
 * row for this at most once, not once per request.
 *
 * An address can change (POST /auth/email/change/confirm, or its undo), possibly on another
 * node, so an entry is trusted for EMAIL_MEMO_MS only: a changed address shows on every node
 * within a minute, and a user's row is still read at most once a minute per node. The address
 * is display data here; nothing is decided by it.
 */
export const EMAIL_MEMO_MS = 60_000;

export class UserEmails {
  readonly #emails = new Map<string, { email: string; until: number }>();

  constructor(
    private readonly users: Pick<UserStore, 'findUserById'>,
    private readonly now: () => number,
    /** About 150 bytes an entry: 50,000 users cost ≈ 7 MiB. Cleared whole when full. */
    private readonly capacity = 50_000,
  ) {}

  remember(user: { id: string; email: string }): void {
    if (this.#emails.size >= this.capacity) this.#emails.clear();
    this.#emails.set(user.id, { email: user.email, until: this.now() + EMAIL_MEMO_MS });
  }

  forget(userId: string): void {
    this.#emails.delete(userId);
  }

  /** Synchronous when remembered; otherwise one store read (undefined: no such user). */
  emailOf(userId: string): string | Promise<string | undefined> {
    const known = this.#emails.get(userId);
    if (known !== undefined && known.until > this.now()) return known.email;
    return this.users.findUserById(userId).then((user) => {
      if (user) this.remember(user);
      return user?.email;
    });
  }
}
