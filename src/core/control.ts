import { LastAdminError, type UserRecord, type UserStore } from '../store/ports/index.js';
import type { Audit } from './audit.js';
import { AuthError } from './errors.js';
import type { Runtime } from './runtime.js';
import type { ClientContext, Sessions } from './sessions.js';

/** Who performs a control action: an admin's user id (null from the CLI) and where from. */
export interface Actor {
  actorId: string | null;
  client: ClientContext;
}

/** When a role change takes effect, as the admin API reports it. */
export type RoleChangeEffect =
  | { appliesAt: 'next_request' }
  | { appliesAt: 'next_refresh'; maxDelaySeconds: number };

/** 409 `last_admin`: nobody could use the console or the admin API any more. */
const lastAdmin = (what: string) =>
  new AuthError(
    'last_admin',
    `${what} would leave no unlocked account with the admin role: give another account the admin role first.`,
  );

/** Runs an ending that must leave an admin; LastAdminError (nothing changed) becomes a 409. */
async function keepingAnAdmin<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof LastAdminError) throw lastAdmin(what);
    throw error;
  }
}

const ROLE_NAME = /^[a-z][a-z0-9_:-]{0,63}$/;
const MAX_ROLES = 32;

/** The roles as stored (duplicates dropped); 400 `invalid_roles` for a bad name or too many. Admin API, console and CLI alike. */
export function checkedRoles(roles: readonly string[]): string[] {
  const unique = [...new Set(roles)];
  if (unique.length > MAX_ROLES || !unique.every((role) => ROLE_NAME.test(role))) {
    throw new AuthError(
      'invalid_roles',
      `Roles are lower-case names like "admin" or "teller:read", at most ${MAX_ROLES} of them.`,
    );
  }
  return unique;
}

/**
 * The control plane: lock and unlock accounts, change roles, end logins, log everyone out.
 * Each action changes the store, reaches every node (session mode: the store is read per
 * request; hybrid: the revocation bus) and is audited. Each is all or nothing: the change and
 * the logins and keys it ends are one store transaction (Sessions.endUserLogins), so an error
 * (503) means nothing changed. Used by the admin API and the CLI.
 */
export class Control {
  constructor(
    private readonly deps: {
      users: UserStore;
      sessions: Sessions;
      audit: Audit;
      runtime: Runtime;
      mode: 'session' | 'jwt' | 'hybrid';
      accessTokenTtlMs: number;
    },
  ) {}

  /**
   * Locks the account: every login of the user and every API key ends now (keys for good: an
   * unlock does not revive them) and new logins are refused. Others are untouched. One
   * transaction with the lock itself, so a failure (503) leaves the account as it was.
   */
  async lockUser(userId: string, reason: string, actor: Actor): Promise<{ revokedSessions: number }> {
    const user = await this.#user(userId);
    const now = this.deps.runtime.now();
    const ended = await keepingAnAdmin('Locking this account', () =>
      this.deps.sessions.endUserLogins(user.id, {
        cause: 'locked',
        account: { lock: { lockedAt: now, reason }, updatedAt: now },
        keepAnAdmin: user.roles.includes('admin'),
      }),
    );
    await this.deps.audit.record('user.locked', {
      ...actor,
      userId: user.id,
      detail: { reason, revokedSessions: ended.sessions, revokedApiKeys: ended.apiKeys },
    });
    return { revokedSessions: ended.sessions };
  }

  async unlockUser(userId: string, actor: Actor): Promise<void> {
    const user = await this.#user(userId);
    await this.deps.users.setUserLock(user.id, null, null, this.deps.runtime.now());
    await this.deps.audit.record('user.unlocked', { ...actor, userId: user.id });
  }

  /**
   * Replaces the user's roles. Session mode reads roles from the store on every request, and
   * hybrid mode revokes the user's current access tokens, so the change applies to the very
   * next request; pure jwt mode cannot revoke, so it applies at the next refresh.
   */
  async setRoles(userId: string, roles: string[], actor: Actor): Promise<RoleChangeEffect> {
    const unique = checkedRoles(roles);
    const user = await this.#user(userId);
    // The new roles and (hybrid) the revocation of the user's access tokens: one transaction.
    const now = this.deps.runtime.now();
    await keepingAnAdmin('Removing the admin role from this account', () =>
      this.deps.sessions.endUserLogins(user.id, {
        account: { roles: unique, updatedAt: now },
        keepLogins: true,
        keepAnAdmin: user.roles.includes('admin') && !unique.includes('admin'),
      }),
    );
    await this.deps.audit.record('user.roles_changed', {
      ...actor,
      userId: user.id,
      detail: { from: user.roles, to: unique },
    });
    return this.deps.mode === 'jwt'
      ? { appliesAt: 'next_refresh', maxDelaySeconds: Math.round(this.deps.accessTokenTtlMs / 1000) }
      : { appliesAt: 'next_request' };
  }

  async revokeSession(sessionId: string, actor: Actor): Promise<boolean> {
    const revoked = await this.deps.sessions.revoke(sessionId, 'admin_revoked');
    if (revoked) await this.deps.audit.record('session.revoked', { ...actor, sessionId });
    return revoked;
  }

  /** Ends every login and API key of the user. */
  async revokeUserSessions(userId: string, actor: Actor): Promise<number> {
    const user = await this.#user(userId);
    const ended = await this.deps.sessions.endUserLogins(user.id, { cause: 'admin_revoked' });
    await this.deps.audit.record('logout.all', {
      ...actor,
      userId: user.id,
      detail: { revoked: ended.sessions, revokedApiKeys: ended.apiKeys },
    });
    return ended.sessions;
  }

  /** The global epoch: every login and API key of everyone ends. For the day a key or the database leaks. */
  async logoutEveryone(actor: Actor): Promise<number> {
    const ended = await this.deps.sessions.endEveryone();
    await this.deps.audit.record('logout.everyone', {
      ...actor,
      detail: { revoked: ended.sessions, revokedApiKeys: ended.apiKeys },
    });
    return ended.sessions;
  }

  async #user(userId: string): Promise<UserRecord> {
    const user = await this.deps.users.findUserById(userId);
    if (!user) throw new AuthError('user_not_found', 'There is no user with this id.');
    return user;
  }
}
