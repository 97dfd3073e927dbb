import type { RevocationRecord, RevocationStore } from '../ports/index.js';
import type { MemoryTables } from './tables.js';

export class MemoryRevocationStore implements RevocationStore {
  constructor(private readonly tables: MemoryTables) {}

  async appendRevocation(revocation: Omit<RevocationRecord, 'seq'>): Promise<RevocationRecord> {
    const record = { ...revocation, seq: ++this.tables.revocationSeq };
    this.tables.revocations.push(record);
    return { ...record };
  }

  async listRevocationsSince(afterSeq: number, now: number): Promise<RevocationRecord[]> {
    return this.tables.revocations
      .filter((r) => r.seq > afterSeq && r.expiresAt > now)
      .map((r) => ({ ...r }));
  }

  async deleteExpiredRevocations(now: number): Promise<number> {
    const all = this.tables.revocations;
    const before = all.length;
    const live = all.filter((r) => r.expiresAt > now);
    all.splice(0, before, ...live);
    return before - live.length;
  }
}
