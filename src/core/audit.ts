import { createHmac } from 'node:crypto';
import type { AuditEvent, AuditStore, SecurityEventStore } from '../store/ports/index.js';
import { isValidEmail } from './email.js';
import type { Runtime } from './runtime.js';
import { isSecurityEventType } from './security-events.js';
import type { ClientContext } from './sessions.js';
import { silentTelemetry, type Telemetry } from './telemetry.js';
import { newRandomId } from './tokens.js';

/** The auth events Tessera records. Stable names: operators filter and alert on them. */
export const AUDIT_EVENT_TYPES = [
  'user.registered',
  'login.succeeded',
  'login.failed',
  'logout',
  'logout.all',
  'session.revoked',
  'password.changed',
  'password.breach_check_skipped',
  'token.refreshed',
  'token.reuse_detected',
  'key.rotated',
  'key.revoked',
  'user.locked',
  'user.unlocked',
  'user.roles_changed',
  'logout.everyone',
  'oauth.client_created',
  'oauth.client_deleted',
  'oauth.consent_granted',
  'oauth.consent_denied',
  'oauth.code_exchanged',
  'oauth.code_reused',
  'oauth.token_reused',
  'oauth.token_revoked',
  'oauth.grant_revoked',
  'api_key.created',
  'api_key.revoked',
  // Account recovery and verification by email (core/email/).
  'email.verification_sent',
  'email.verified',
  'password.reset_requested',
  'password.reset',
  'email.change_requested',
  'email.changed',
  'email.change_undone',
  'login.new_device',
  'account.not_me',
  'mail.failed',
  // Webhooks and Shared Signals (src/events/).
  'webhook.created',
  'webhook.deleted',
  'webhook.replayed',
  'delivery.failed',
  // Second factors and step-up (issue 18).
  'login.mfa_challenged',
  'mfa.failed',
  'mfa.totp_enrolled',
  'mfa.totp_removed',
  'mfa.recovery_code_used',
  'mfa.recovery_codes_regenerated',
  'mfa.reset',
  'login.step_up',
  // Passkeys (core/passkeys/).
  'passkey.registered',
  'passkey.renamed',
  'passkey.removed',
  'passkey.clone_detected',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

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
  /** Keys typedEmailDetail's hash; random per process, never stored. */
  readonly #typedTextKey: Buffer;

  constructor(
    private readonly store: AuditStore,
    private readonly runtime: Runtime,
    /**
     * Where the audit events that are also security events (core/security-events.ts) go, for
     * webhooks and Shared Signals. Written right after the audit row, so such an event is exactly
     * as durable as its audit row; login endings write theirs inside their own transaction.
     */
    private readonly events?: SecurityEventStore,
    /** A security event was written: fan it out now rather than at the next poll. */
    private readonly onEvent: () => void = () => undefined,
    /** Every recorded event is counted too (metrics by event type: logins, refreshes, revocations). */
    private readonly telemetry: Telemetry = silentTelemetry,
  ) {
    this.#typedTextKey = runtime.randomBytes(32);
  }

  /**
   * What a failed login's row says about the email box: the address when it is a valid one,
   * else a keyed hash, because people type passwords into the email box and the audit log is
   * read by admins and kept for months. The hash (HMAC with a per-process random key, 64 bits
   * shown) still tells an admin that the same text failed again, but cannot be checked against
   * a password list offline, since the key is never stored.
   */
  typedEmailDetail(typed: string): { email: string } | { emailHash: string } {
    if (isValidEmail(typed)) return { email: typed.trim().slice(0, 320) };
    return { emailHash: createHmac('sha256', this.#typedTextKey).update(typed).digest('hex').slice(0, 16) };
  }

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
    if (this.events && isSecurityEventType(type)) {
      // The audit row's facts, ids only and never a secret (the audit log's own rule).
      const data = {
        actorId: event.actorId,
        sessionId: event.sessionId,
        ip: event.ip,
        userAgent: event.userAgent,
        detail: facts.detail ?? {},
      };
      await this.events.appendSecurityEvent({
        id: event.id,
        type,
        at: event.at,
        userId: event.userId,
        data: JSON.stringify(data),
      });
      this.onEvent();
    }
    this.telemetry.event(type);
  }

  /** Newest first; `before` (the last event's at and id) gives the next page. */
  list(
    filter: { userId?: string; type?: string; limit?: number; before?: { at: number; id: string } } = {},
  ): Promise<AuditEvent[]> {
    return this.store.listAuditEvents({ ...filter, limit: Math.min(filter.limit ?? 100, 1000) });
  }

  /** Deletes events older than the retention period; returns how many. */
  sweep(retentionMs: number): Promise<number> {
    return this.store.deleteAuditEventsBefore(this.runtime.now() - retentionMs);
  }
}
