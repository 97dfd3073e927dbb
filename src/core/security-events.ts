import type { LoginEnding } from '../store/ports/index.js';
import type { Runtime } from './runtime.js';
import { newRandomId } from './tokens.js';

/**
 * The security events other systems can subscribe to (webhooks, Shared Signals). Stable names:
 * receivers route and alert on them. `session.revoked` is written by every login ending in its
 * own transaction (with the ended logins' ids); every other type is the audit event of the same
 * name, written by the audit path (core/audit.ts) right after its audit row. `factor.added` and
 * `factor.removed` flow as soon as an audit event of that name is recorded.
 */
export const SECURITY_EVENT_TYPES = [
  'session.revoked',
  'user.registered',
  'login.succeeded',
  'login.failed',
  'user.locked',
  'user.unlocked',
  'user.roles_changed',
  'password.changed',
  'password.reset',
  'email.changed',
  'account.not_me',
  'token.reuse_detected',
  'factor.added',
  'factor.removed',
  'oauth.client_created',
  'oauth.client_deleted',
  'oauth.consent_granted',
  'oauth.grant_revoked',
  'oauth.code_reused',
  'oauth.token_reused',
  'api_key.created',
  'api_key.revoked',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

const PUBLIC_TYPES: ReadonlySet<string> = new Set(SECURITY_EVENT_TYPES);
export const isSecurityEventType = (type: string): type is SecurityEventType => PUBLIC_TYPES.has(type);

/** Why logins ended: carried by `session.revoked` events as `cause` (stable names). */
export type EndCause =
  | 'logout'
  | 'logout_all'
  | 'device_removed'
  | 'replaced'
  | 'locked'
  | 'admin_revoked'
  | 'logout_everyone'
  | 'password_changed'
  | 'password_reset'
  | 'email_change_undone'
  | 'refresh_reuse'
  | 'code_reuse'
  | 'oauth_revoked'
  | 'client_deleted'
  | 'grant_revoked'
  | 'expired';

/**
 * The `session.revoked` event an ending records in its transaction. Its data, as stored and
 * delivered: `{ cause, everyone?, logins: [{ id, userId, clientId? }] }` (the store adds `logins`).
 */
export function sessionRevokedEvent(
  runtime: Runtime,
  cause: EndCause,
  userId: string | null,
  extra: Record<string, unknown> = {},
): NonNullable<LoginEnding['event']> {
  return {
    id: newRandomId(runtime),
    type: 'session.revoked',
    at: runtime.now(),
    userId,
    data: { cause, ...extra },
  };
}
