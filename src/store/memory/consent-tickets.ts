import type { ConsentTicketRecord, ConsentTicketStore } from '../ports/index.js';
import { deleteWhere, type MemoryTables } from './tables.js';

export class MemoryConsentTicketStore implements ConsentTicketStore {
  constructor(private readonly tables: MemoryTables) {}

  async createConsentTicket(ticket: ConsentTicketRecord): Promise<void> {
    const { consentTickets } = this.tables;
    if (consentTickets.has(ticket.id)) throw new Error(`duplicate consent ticket id ${ticket.id}`);
    consentTickets.set(ticket.id, { ...ticket, scopes: [...ticket.scopes] });
  }

  async takeConsentTicket(id: string): Promise<ConsentTicketRecord | undefined> {
    const ticket = this.tables.consentTickets.get(id);
    this.tables.consentTickets.delete(id);
    return ticket;
  }

  async deleteExpiredConsentTickets(before: number): Promise<number> {
    return deleteWhere(this.tables.consentTickets, (ticket) => ticket.expiresAt < before);
  }
}
