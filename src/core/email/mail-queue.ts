import type { MailOutboxStore } from '../../store/ports/mail-outbox.js';
import type { Runtime } from '../runtime.js';
import { newRandomId } from '../tokens.js';
import type { ComposedMail, MailKind } from './messages.js';

/**
 * Core's side of the outbox: a message decided on is written to the outbox table (in the same
 * store, so it survives a restart and any node can send it) and the delivery worker is nudged.
 * The request that caused it never waits for SMTP.
 */
export class MailQueue {
  constructor(
    private readonly outbox: MailOutboxStore,
    private readonly runtime: Runtime,
    /** Called after each enqueue: the worker starts sending at once instead of at its next poll. */
    private readonly onQueued: () => void = () => undefined,
  ) {}

  async enqueue(kind: MailKind, to: string, userId: string | null, mail: ComposedMail): Promise<string> {
    const now = this.runtime.now();
    const id = newRandomId(this.runtime);
    await this.outbox.enqueueMail({
      id,
      kind,
      userId,
      to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      leaseOwner: null,
      leaseUntil: null,
      lastError: null,
      createdAt: now,
      sentAt: null,
    });
    this.onQueued();
    return id;
  }
}

/** A link to one of Tessera's pages, carrying a token in its query (the only place it travels). */
export const pageLink = (publicUrl: string, page: string, token: string) =>
  `${publicUrl}/auth/${page}?token=${encodeURIComponent(token)}`;
