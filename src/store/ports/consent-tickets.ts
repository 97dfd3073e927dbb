/**
 * The consent page as shown (`<id>.<secret>` in its form): approving or denying must present
 * it, once, from the same login, for exactly this request.
 */
export interface ConsentTicketRecord {
  id: string;
  secretHash: string;
  /** The login that was shown the page. */
  sessionId: string;
  userId: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  codeChallenge: string;
  createdAt: number;
  expiresAt: number;
}

/** The OAuth consent tickets aggregate: single-use, short-lived. */
export interface ConsentTicketStore {
  createConsentTicket(ticket: ConsentTicketRecord): Promise<void>;
  /** Deletes the ticket and returns it: of any number of racing calls, exactly one gets it. */
  takeConsentTicket(id: string): Promise<ConsentTicketRecord | undefined>;
  /** Deletes tickets with `expiresAt < before`; returns how many. */
  deleteExpiredConsentTickets(before: number): Promise<number>;
}
