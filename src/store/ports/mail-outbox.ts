/**
 * The durable outbox: mail core has decided to send, waiting for the delivery worker
 * (src/mail/delivery.ts). A row is claimed with a lease (owner + until), so several nodes
 * sharing one database never send the same message twice while its sender is alive; a crashed
 * sender's lease simply runs out and another node retries. Times are epoch milliseconds.
 */
export type MailStatus = 'pending' | 'sent' | 'failed';

export interface MailRecord {
  id: string;
  /** What the mail is for (verify, reset, change, change_notice, new_device): never a secret. */
  kind: string;
  userId: string | null;
  to: string;
  subject: string;
  /** The bodies hold the single-use link: they are blanked once the message is accepted. */
  text: string;
  html: string;
  status: MailStatus;
  attempts: number;
  /** When the worker may try it next (backoff after a failure). */
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  /** The last delivery error as the SMTP server or the socket said it (no secret). */
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface MailOutboxStore {
  enqueueMail(mail: MailRecord): Promise<void>;
  /**
   * Leases up to `limit` pending messages due at `now` that nobody else holds a live lease on
   * (compare-and-set per row: two workers never both win one), oldest first.
   */
  claimMail(now: number, owner: string, leaseUntil: number, limit: number): Promise<MailRecord[]>;
  /** Accepted by the SMTP server: status sent, bodies blanked. Only by the lease holder. */
  markMailSent(id: string, owner: string, sentAt: number): Promise<boolean>;
  /** A failed attempt: back to pending at `nextAttemptAt`, or `failed` for good when `final`. */
  markMailFailed(
    id: string,
    owner: string,
    failure: { attempts: number; nextAttemptAt: number; error: string; final: boolean },
  ): Promise<boolean>;
  /** Newest first, for operators; bodies are never returned here. */
  listMail(filter: { status?: MailStatus; limit: number }): Promise<Array<Omit<MailRecord, 'text' | 'html'>>>;
  /** Deletes sent and failed messages created before `before`; returns how many. */
  deleteMailBefore(before: number): Promise<number>;
}
