import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEventType } from '../core/audit.js';
import { observePasswordHashWaits, passwordHashQueueDepth } from '../core/passwords.js';
import { LOGIN_OUTCOMES, type LoginOutcome, type Telemetry } from '../core/telemetry.js';
import { RequestDurations } from './request-durations.js';

/**
 * Audit events that end logins, by the cause an operator reads on a dashboard. Counted per
 * event (one lock = 1, however many logins it ended).
 */
const REVOCATION_CAUSES: Partial<Record<AuditEventType, string>> & Record<string, string | undefined> = {
  logout: 'logout',
  'logout.all': 'logout_all',
  'session.revoked': 'session_revoked',
  'user.locked': 'lock',
  'user.roles_changed': 'roles_changed',
  'logout.everyone': 'everyone',
  'password.changed': 'password_changed',
  'password.reset': 'password_reset',
  'account.not_me': 'not_me',
  'token.reuse_detected': 'refresh_reuse',
  'oauth.token_reused': 'refresh_reuse',
  'oauth.code_reused': 'code_reuse',
  'oauth.token_revoked': 'oauth_token_revoked',
  'oauth.grant_revoked': 'oauth_grant_revoked',
  'api_key.revoked': 'api_key_revoked',
};

/** What the mail-outbox gauge reads at scrape time: pending messages, capped (one indexed read). */
export type OutboxDepth = () => Promise<number>;

/**
 * One Tessera instance's metrics: its own prom-client Registry (never the global one, so
 * several instances in one process, as in the tests, each count only their own), the
 * process metrics, and the Telemetry calls of core and the workers as counters. Labels are
 * closed sets (outcomes, causes, codes, route patterns): never a user id, email or token.
 */
export class TesseraMetrics implements Telemetry {
  readonly registry = new Registry();
  readonly requests = new RequestDurations();
  readonly #events: Counter<'type'>;
  readonly #logins: Counter<'outcome'>;
  readonly #refreshes: Counter;
  readonly #rateLimited: Counter<'action'>;
  readonly #reuse: Counter<'kind'>;
  readonly #revocations: Counter<'cause'>;
  readonly #lag: Histogram<'via'>;
  readonly #behind: Counter<'reason'>;
  readonly #catchUps: Counter;
  readonly #caughtUp: Counter;
  readonly #storeErrors: Counter<'kind'>;
  readonly #unavailable: Counter<'code'>;
  readonly #mail: Counter<'outcome'>;
  readonly #stopHashWaits: () => void;

  constructor(outboxDepth: OutboxDepth) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.registry.registerMetric(this.requests as never);
    this.#events = new Counter({
      name: 'tessera_audit_events_total',
      help: 'Audit events recorded, by type.',
      labelNames: ['type'],
      registers,
    });
    this.#logins = new Counter({
      name: 'tessera_logins_total',
      help: 'Login attempts by outcome: success, failure (wrong email or password), locked, rate_limited, mfa_required.',
      labelNames: ['outcome'],
      registers,
    });
    // Every outcome is there from the start (at 0), so a rate or an alert never meets a missing series.
    for (const outcome of LOGIN_OUTCOMES) this.#logins.inc({ outcome }, 0);
    this.#rateLimited = new Counter({
      name: 'tessera_rate_limited_total',
      help: 'Attempts refused by a rate limit (429), by action: login, register, refresh, password.',
      labelNames: ['action'],
      registers,
    });
    this.#refreshes = new Counter({
      name: 'tessera_refreshes_total',
      help: 'Refresh tokens exchanged (jwt and hybrid logins).',
      registers,
    });
    this.#reuse = new Counter({
      name: 'tessera_refresh_reuse_total',
      help: 'A spent refresh token or authorization code presented again: the family was ended.',
      labelNames: ['kind'],
      registers,
    });
    this.#revocations = new Counter({
      name: 'tessera_revocations_total',
      help: 'Events that ended logins, by cause (one lock counts once, however many logins it ended).',
      labelNames: ['cause'],
      registers,
    });
    this.#lag = new Histogram({
      name: 'tessera_revocation_lag_seconds',
      help: 'hybrid: from a revocation made on another node to its application on this one.',
      labelNames: ['via'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.#behind = new Counter({
      name: 'tessera_revocation_behind_total',
      help: 'hybrid: times this node knew it had missed revocations (reason: gap in sequence, bus_disconnect).',
      labelNames: ['reason'],
      registers,
    });
    this.#catchUps = new Counter({
      name: 'tessera_revocation_catchups_total',
      help: 'hybrid: catch-ups from the revocation log (every 2 s poll, gaps, disconnects).',
      registers,
    });
    this.#caughtUp = new Counter({
      name: 'tessera_revocation_catchup_records_total',
      help: 'hybrid: revocations applied from the log by a catch-up rather than from the bus.',
      registers,
    });
    const waits = new Histogram({
      name: 'tessera_password_hash_wait_seconds',
      help: 'Time a password hash or verification waited for a hashing thread (the whole process).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#stopHashWaits = observePasswordHashWaits((ms) => waits.observe(ms / 1000));
    new Gauge({
      name: 'tessera_password_hash_queue_depth',
      help: 'Password hashes waiting for a hashing thread now (the whole process).',
      registers,
      collect() {
        this.set(passwordHashQueueDepth());
      },
    });
    this.#storeErrors = new Counter({
      name: 'tessera_store_errors_total',
      help: 'Requests failed because the database or Redis could not answer (kind: unavailable, storage_full, …).',
      labelNames: ['kind'],
      registers,
    });
    this.#unavailable = new Counter({
      name: 'tessera_unavailable_responses_total',
      help: '503 answers by error code (busy, store_unavailable, storage_*, password_hashing_failed).',
      labelNames: ['code'],
      registers,
    });
    this.#mail = new Counter({
      name: 'tessera_mail_deliveries_total',
      help: 'Mail delivery attempts by outcome: sent, retry (will try again), failed (given up).',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'tessera_mail_outbox_depth',
      help: `Messages waiting in the mail outbox (pending), counted up to ${OUTBOX_DEPTH_CAP}.`,
      registers,
      async collect() {
        // A scrape must not fail because the database is down: the store-errors counter says so.
        this.set(await outboxDepth().catch(() => Number.NaN));
      },
    });
  }

  event(type: string): void {
    this.#events.inc({ type });
    if (type === 'token.refreshed') this.#refreshes.inc();
    else if (type === 'token.reuse_detected') this.#reuse.inc({ kind: 'refresh_token' });
    else if (type === 'oauth.token_reused') this.#reuse.inc({ kind: 'oauth_refresh_token' });
    else if (type === 'oauth.code_reused') this.#reuse.inc({ kind: 'authorization_code' });
    const cause = REVOCATION_CAUSES[type];
    if (cause) this.#revocations.inc({ cause });
  }

  login(outcome: LoginOutcome): void {
    this.#logins.inc({ outcome });
  }

  rateLimited(action: string): void {
    this.#rateLimited.inc({ action });
    if (action === 'login') this.#logins.inc({ outcome: 'rate_limited' });
  }

  revocationApplied(lagMs: number, via: 'bus' | 'log'): void {
    this.#lag.observe({ via }, Math.max(0, lagMs) / 1000);
  }

  revocationBehind(reason: 'gap' | 'bus_disconnect'): void {
    this.#behind.inc({ reason });
  }

  revocationCatchUp(applied: number): void {
    this.#catchUps.inc();
    if (applied > 0) this.#caughtUp.inc(applied);
  }

  storeError(kind: string): void {
    this.#storeErrors.inc({ kind });
  }

  unavailable(code: string): void {
    this.#unavailable.inc({ code });
  }

  mailDelivery(outcome: 'sent' | 'retry' | 'failed'): void {
    this.#mail.inc({ outcome });
  }

  /** The Prometheus text exposition of everything above. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.#stopHashWaits();
  }
}

/** Beyond this many pending messages the outbox gauge stops counting (an alert fires far earlier). */
export const OUTBOX_DEPTH_CAP = 10_000;
