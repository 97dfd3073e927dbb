import type { AuditEvent, AuditStore } from '../store/ports/index.js';
import type { Runtime } from './runtime.js';
import type { ClientContext } from './sessions.js';
import { newRandomId } from './tokens.js';

/** The auth events Tessera records. Stable names: operators filter and alert on them. */
export type AuditEventType =
  | 'user.registered'
  | 'login.succeeded'
  | 'login.failed'
  | 'logout'
  | 'logout.all'
  | 'session.revoked'
  | 'password.changed'
  | 'token.refreshed'
  | 'token.reuse_detected'
  | 'key.rotated'
  | 'key.revoked'
  | 'user.locked'
  | 'user.unlocked'
  | 'user.roles_changed'
  | 'logout.everyone'
  | 'oauth.client_created'
  | 'oauth.client_deleted'
  | 'oauth.consent_granted'
  | 'oauth.consent_denied'
  | 'oauth.code_exchanged'
  | 'oauth.code_reused'
  | 'oauth.token_reused'
  | 'oauth.token_revoked'
  | 'oauth.grant_revoked'
  | 'api_key.created'
  | 'api_key.revoked';

export interface AuditFacts {
  /** Who acted: the user, an operator's user id, or null for the system/CLI. */
  actorId?: string | null;
  /** Whom it concerns. */
  userId?: string | null;
  sessionId?: string | null;
  client?: ClientContext;
  /** Event-specific facts, never a secret (a key id, a count, an email that failed to log in). */
  detail?: Record<string, unknown>;
}

/** Operator actions from the command line carry no IP or User-Agent. */
export const CLI_CLIENT: ClientContext = { ip: 'cli', userAgent: 'tessera-cli' };

/** The audit log: append-only events, kept for a retention period, queried newest first. */
export class Audit {
  constructor(
    private readonly store: AuditStore,
    private readonly runtime: Runtime,
  ) {}

  async record(type: AuditEventType, facts: AuditFacts = {}): Promise<void> {
    const event: AuditEvent = {
      id: newRandomId(this.runtime),
      at: this.runtime.now(),
      type,
      // An explicit null actor is the system or the CLI; an absent one means the user acted.
      actorId: facts.actorId !== undefined ? facts.actorId : (facts.userId ?? null),
      userId: facts.userId ?? null,
      sessionId: facts.sessionId ?? null,
      ip: facts.client?.ip ?? '',
      userAgent: facts.client?.userAgent ?? '',
      detail: JSON.stringify(facts.detail ?? {}),
    };
    await this.store.appendAuditEvent(event);
  }

  list(filter: { userId?: string; type?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    return this.store.listAuditEvents({ ...filter, limit: Math.min(filter.limit ?? 100, 1000) });
  }

  /** Deletes events older than the retention period; returns how many. */
  sweep(retentionMs: number): Promise<number> {
    return this.store.deleteAuditEventsBefore(this.runtime.now() - retentionMs);
  }
}
