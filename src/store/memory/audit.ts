import type { AuditEvent, AuditFilter, AuditStore } from '../ports/index.js';
import { compareIds, deleteWhere, type MemoryTables } from './tables.js';

export class MemoryAuditStore implements AuditStore {
  constructor(private readonly tables: MemoryTables) {}

  async appendAuditEvent(event: AuditEvent): Promise<void> {
    if (this.tables.auditEvents.has(event.id)) throw new Error(`duplicate audit event id ${event.id}`);
    this.tables.auditEvents.set(event.id, { ...event });
  }

  async listAuditEvents(filter: AuditFilter): Promise<AuditEvent[]> {
    const before = filter.before;
    return [...this.tables.auditEvents.values()]
      .filter((e) => filter.userId === undefined || e.userId === filter.userId)
      .filter((e) => filter.type === undefined || e.type === filter.type)
      .filter((e) => !before || e.at < before.at || (e.at === before.at && compareIds(e.id, before.id) < 0))
      .sort((a, b) => b.at - a.at || compareIds(b.id, a.id))
      .slice(0, Math.max(0, filter.limit))
      .map((e) => ({ ...e }));
  }

  async deleteAuditEventsBefore(before: number): Promise<number> {
    return deleteWhere(this.tables.auditEvents, (event) => event.at < before);
  }
}
