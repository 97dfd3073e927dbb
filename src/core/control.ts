import type { UserRecord, UserStore } from '../store/ports/index.js';
import type { Audit } from './audit.js';
import { AuthError } from './errors.js';
import type { Revocations } from './revocations.js';
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

const ROLE_NAME = /^[a-z][a-z0-9_:-]{0,63}$/;
const MAX_ROLES = 32;

/**
 * The control plane: lock and unlock accounts, change roles, end logins, log everyone out.
 * Each action changes the store, reaches every node (session mode: the store is read per
 * request; hybrid: the revocation bus) and is audited. Used by the admin API and the CLI.
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
      revocations?: Revocations;
    },
  ) {}

  /** Locks the account: every login of the user ends now and new logins are refused. Others are untouched. */
  async lockUser(userId: string, reason: string, actor: Actor): Promise<{ revokedSessions: number }> {
    const user = await this.#user(userId);
    const now = this.deps.runtime.now();
    await this.deps.users.setUserLock(user.id, now, reason, now);
    const revokedSessions = await this.deps.sessions.revokeAllOfUser(user.id);
    await this.deps.audit.record('user.locked', {
      ...actor,
      userId: user.id,
      detail: { reason, revokedSessions },
    });
    return { revokedSessions };
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
    const unique = [...new Set(roles)];
    if (unique.length > MAX_ROLES || !unique.every((role) => ROLE_NAME.test(role))) {
      throw new AuthError(
        'invalid_roles',
        400,
        `Roles are lower-case names like "admin" or "teller:read", at most ${MAX_ROLES} of them.`,
      );
    }
    const user = await this.#user(userId);
    await this.deps.users.setUserRoles(user.id, unique, this.deps.runtime.now());
    await this.deps.revocations?.revokeUser(user.id);
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
    const revoked = await this.deps.sessions.revoke(sessionId);
    if (revoked) await this.deps.audit.record('session.revoked', { ...actor, sessionId });
    return revoked;
  }

  async revokeUserSessions(userId: string, actor: Actor): Promise<number> {
    const user = await this.#user(userId);
    const revoked = await this.deps.sessions.revokeAllOfUser(user.id);
    await this.deps.audit.record('logout.all', { ...actor, userId: user.id, detail: { revoked } });
    return revoked;
  }

  /** The global epoch: every login of everyone ends. For the day a key or the database leaks. */
  async logoutEveryone(actor: Actor): Promise<number> {
    const revoked = await this.deps.sessions.revokeEveryone();
    await this.deps.audit.record('logout.everyone', { ...actor, detail: { revoked } });
    return revoked;
  }

  async #user(userId: string): Promise<UserRecord> {
    const user = await this.deps.users.findUserById(userId);
    if (!user) throw new AuthError('user_not_found', 404, 'There is no user with this id.');
    return user;
  }
}
