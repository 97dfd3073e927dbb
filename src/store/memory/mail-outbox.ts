import type { MailOutboxStore, MailRecord, MailStatus } from '../ports/mail-outbox.js';

/** The outbox in process memory (tests, trying things out): gone when the process ends. */
export class MemoryMailOutbox implements MailOutboxStore {
  readonly #mail = new Map<string, MailRecord>();

  async enqueueMail(mail: MailRecord): Promise<void> {
    this.#mail.set(mail.id, { ...mail });
  }

  async claimMail(now: number, owner: string, leaseUntil: number, limit: number): Promise<MailRecord[]> {
    const due = [...this.#mail.values()]
      .filter(
        (m) =>
          m.status === 'pending' && m.nextAttemptAt <= now && (m.leaseUntil === null || m.leaseUntil <= now),
      )
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt)
      .slice(0, limit);
    for (const mail of due) {
      mail.leaseOwner = owner;
      mail.leaseUntil = leaseUntil;
    }
    return due.map((mail) => ({ ...mail }));
  }

  async markMailSent(id: string, owner: string, sentAt: number): Promise<boolean> {
    const mail = this.#mail.get(id);
    if (!mail || mail.leaseOwner !== owner) return false;
    Object.assign(mail, {
      status: 'sent',
      sentAt,
      text: '',
      html: '',
      leaseOwner: null,
      leaseUntil: null,
      lastError: null,
    });
    return true;
  }

  async markMailFailed(
    id: string,
    owner: string,
    failure: { attempts: number; nextAttemptAt: number; error: string; final: boolean },
  ): Promise<boolean> {
    const mail = this.#mail.get(id);
    if (!mail || mail.leaseOwner !== owner) return false;
    Object.assign(mail, {
      status: failure.final ? 'failed' : 'pending',
      attempts: failure.attempts,
      nextAttemptAt: failure.nextAttemptAt,
      lastError: failure.error,
      leaseOwner: null,
      leaseUntil: null,
      ...(failure.final && { text: '', html: '' }),
    });
    return true;
  }

  async listMail(filter: { status?: MailStatus; limit: number }) {
    return [...this.#mail.values()]
      .filter((m) => !filter.status || m.status === filter.status)
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
      .slice(0, filter.limit)
      .map(({ text: _text, html: _html, ...rest }) => rest);
  }

  async deleteMailBefore(before: number): Promise<number> {
    let deleted = 0;
    for (const [id, mail] of this.#mail) {
      if (mail.status !== 'pending' && mail.createdAt < before) {
        this.#mail.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}
