/** An auth event; never holds a secret. */
export interface AuditEvent {
  id: string;
  at: number;
  type: string;
  /** Who did it: the user themselves, an operator, or `system`. */
  actorId: string | null;
  /** Whom it concerns. */
  userId: string | null;
  sessionId: string | null;
  ip: string;
  userAgent: string;
  /** Small JSON object with event-specific facts (e.g. a key id), never a secret. */
  detail: string;
}

export interface AuditFilter {
  userId?: string;
  type?: string;
  limit: number;
  before?: { at: number; id: string };
}

export interface AuditStore {
  appendAuditEvent(event: AuditEvent): Promise<void>;
  /** Newest first by (at, id); `before`: only events older than this key (the next page). */
  listAuditEvents(filter: AuditFilter): Promise<AuditEvent[]>;
  /** Deletes events older than `before`; returns how many. */
  deleteAuditEventsBefore(before: number): Promise<number>;
}
