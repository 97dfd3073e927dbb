/**
 * What core and the workers tell the operator's metrics, as plain calls: core never imports a
 * metrics library (src/metrics/ implements this with prom-client, one registry per Tessera
 * instance). Every argument is a small closed set or a number: never a user id, an email or a
 * token, so no implementation can put one in a label.
 */
export interface Telemetry {
  /**
   * An audit event was recorded (one of core/audit.ts's AUDIT_EVENT_TYPES; a plain string so
   * this file stays a leaf): refreshes, reuse, revocations by cause (src/metrics maps them).
   */
  event(type: string): void;
  /**
   * A login attempt ended this way (LOGIN_OUTCOMES): failure and locked from Accounts.authenticate
   * (a locked account answers like a wrong password; only this counter tells them apart),
   * success once the login is open, rate_limited from the rate limit. Other refusals (busy, store
   * down, email unverified) are in the request and 503 metrics, not here.
   */
  login(outcome: LoginOutcome): void;
  /** A rate limit refused an attempt at this action (login, register, refresh, password). */
  rateLimited(action: string): void;
  /** hybrid: a revocation made elsewhere was applied here, `lagMs` after it was made. */
  revocationApplied(lagMs: number, via: 'bus' | 'log'): void;
  /** hybrid: a sequence gap was seen, or the bus said it may have missed messages (a disconnect). */
  revocationBehind(reason: 'gap' | 'bus_disconnect'): void;
  /** hybrid: a catch-up from the revocation log finished, with how many records it applied. */
  revocationCatchUp(applied: number): void;
  /** A request failed because the database or Redis could not answer (kind: unavailable, storage_full, …). */
  storeError(kind: string): void;
  /** A 503 was answered, with its error code (busy, store_unavailable, storage_full, …). */
  unavailable(code: string): void;
  /** The mail worker tried a message. */
  mailDelivery(outcome: 'sent' | 'retry' | 'failed'): void;
}

/**
 * How a login attempt ended. `mfa_required`: the password was right and a second factor is
 * now asked for (the second-factor work reports it with `telemetry.login('mfa_required')`).
 */
export const LOGIN_OUTCOMES = ['success', 'failure', 'locked', 'rate_limited', 'mfa_required'] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

/** No metrics configured: every call is a no-op. */
export const silentTelemetry: Telemetry = {
  event() {},
  login() {},
  rateLimited() {},
  revocationApplied() {},
  revocationBehind() {},
  revocationCatchUp() {},
  storeError() {},
  unavailable() {},
  mailDelivery() {},
};
