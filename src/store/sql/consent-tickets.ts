import type { Kysely } from 'kysely';
import type { ConsentTicketRecord, ConsentTicketStore } from '../ports/index.js';
import type { Database } from './schema.js';

export class SqlConsentTicketStore implements ConsentTicketStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createConsentTicket(ticket: ConsentTicketRecord): Promise<void> {
    await this.db
      .insertInto('oauth_consent_tickets')
      .values({
        id: ticket.id,
        secret_hash: ticket.secretHash,
        session_id: ticket.sessionId,
        user_id: ticket.userId,
        client_id: ticket.clientId,
        redirect_uri: ticket.redirectUri,
        scopes: JSON.stringify(ticket.scopes),
        state: ticket.state,
        code_challenge: ticket.codeChallenge,
        created_at: ticket.createdAt,
        expires_at: ticket.expiresAt,
      })
      .execute();
  }

  async takeConsentTicket(id: string): Promise<ConsentTicketRecord | undefined> {
    // DELETE … RETURNING: the database gives the row to exactly one of racing takers.
    const row = await this.db
      .deleteFrom('oauth_consent_tickets')
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return (
      row && {
        id: row.id,
        secretHash: row.secret_hash,
        sessionId: row.session_id,
        userId: row.user_id,
        clientId: row.client_id,
        redirectUri: row.redirect_uri,
        scopes: JSON.parse(row.scopes) as string[],
        state: row.state,
        codeChallenge: row.code_challenge,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      }
    );
  }

  async deleteExpiredConsentTickets(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('oauth_consent_tickets')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
