import type { Kysely, Selectable } from 'kysely';
import type { MailOutboxStore, MailRecord, MailStatus } from '../ports/mail-outbox.js';
import { claimLeased } from './leases.js';
import type { Database } from './schema.js';
import { type EmailDatabase, withEmailTables } from './schema-email.js';

type MailRow = Selectable<EmailDatabase['mail_outbox']>;

/** The outbox on SQLite and PostgreSQL: every lease is a conditional UPDATE (compare-and-set). */
export class SqlMailOutbox implements MailOutboxStore {
  readonly #db: Kysely<EmailDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = withEmailTables(db);
  }

  async enqueueMail(mail: MailRecord): Promise<void> {
    await this.#db
      .insertInto('mail_outbox')
      .values({
        id: mail.id,
        kind: mail.kind,
        user_id: mail.userId,
        recipient: mail.to,
        subject: mail.subject,
        body_text: mail.text,
        body_html: mail.html,
        status: mail.status,
        attempts: mail.attempts,
        next_attempt_at: mail.nextAttemptAt,
        lease_owner: mail.leaseOwner,
        lease_until: mail.leaseUntil,
        last_error: mail.lastError,
        created_at: mail.createdAt,
        sent_at: mail.sentAt,
      })
      .execute();
  }

  async claimMail(now: number, owner: string, leaseUntil: number, limit: number): Promise<MailRecord[]> {
    const rows = await claimLeased<MailRow>(this.#db, 'mail_outbox', {
      now,
      owner,
      leaseUntil,
      limit,
      where: [
        ['status', '=', 'pending'],
        ['next_attempt_at', '<=', now],
      ],
      orderBy: 'next_attempt_at',
    });
    return rows.map(fromMailRow);
  }

  async markMailSent(id: string, owner: string, sentAt: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('mail_outbox')
      .set({
        status: 'sent',
        sent_at: sentAt,
        body_text: '',
        body_html: '',
        lease_owner: null,
        lease_until: null,
        last_error: null,
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markMailFailed(
    id: string,
    owner: string,
    failure: { attempts: number; nextAttemptAt: number; error: string; final: boolean },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('mail_outbox')
      .set({
        status: failure.final ? 'failed' : 'pending',
        attempts: failure.attempts,
        next_attempt_at: failure.nextAttemptAt,
        last_error: failure.error,
        lease_owner: null,
        lease_until: null,
        // A message given up on keeps no link to a secret either.
        ...(failure.final && { body_text: '', body_html: '' }),
      })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async listMail(filter: { status?: MailStatus; limit: number }) {
    let query = this.#db
      .selectFrom('mail_outbox')
      .select([
        'id',
        'kind',
        'user_id',
        'recipient',
        'subject',
        'status',
        'attempts',
        'next_attempt_at',
        'lease_owner',
        'lease_until',
        'last_error',
        'created_at',
        'sent_at',
      ])
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(filter.limit);
    if (filter.status) query = query.where('status', '=', filter.status);
    const rows = await query.execute();
    return rows.map((row) => {
      const { text: _text, html: _html, ...rest } = fromMailRow({ ...row, body_text: '', body_html: '' });
      return rest;
    });
  }

  async deleteMailBefore(before: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('mail_outbox')
      .where('status', '!=', 'pending')
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function fromMailRow(row: MailRow): MailRecord {
  return {
    id: row.id,
    kind: row.kind,
    userId: row.user_id,
    to: row.recipient,
    subject: row.subject,
    text: row.body_text,
    html: row.body_html,
    status: row.status as MailStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until === null ? null : Number(row.lease_until),
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    sentAt: row.sent_at === null ? null : Number(row.sent_at),
  };
}
