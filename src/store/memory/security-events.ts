import type {
  ClaimedSecurityEvent,
  DeliveryRecord,
  SecurityEventRecord,
  SecurityEventStore,
} from '../ports/index.js';
import type { MemoryTables, StoredSecurityEvent } from './tables.js';

const publicEvent = ({ fannedOutAt: _f, leaseOwner: _o, leaseUntil: _u, ...event }: StoredSecurityEvent) =>
  event;

export class MemorySecurityEventStore implements SecurityEventStore {
  constructor(private readonly tables: MemoryTables) {}

  async appendSecurityEvent(event: SecurityEventRecord): Promise<void> {
    if (this.tables.securityEvents.has(event.id)) throw new Error(`duplicate security event ${event.id}`);
    this.tables.securityEvents.set(event.id, {
      ...event,
      fannedOutAt: null,
      leaseOwner: null,
      leaseUntil: null,
    });
  }

  async claimSecurityEvents(
    now: number,
    owner: string,
    leaseUntil: number,
    limit: number,
  ): Promise<ClaimedSecurityEvent[]> {
    const due = [...this.tables.securityEvents.values()]
      .filter((e) => e.fannedOutAt === null && (e.leaseUntil === null || e.leaseUntil <= now))
      .sort((a, b) => a.at - b.at)
      .slice(0, limit);
    for (const event of due) {
      event.leaseOwner = owner;
      event.leaseUntil = leaseUntil;
    }
    return due.map((event) => ({ ...publicEvent(event), leaseOwner: owner }));
  }

  async completeFanout(
    eventId: string,
    owner: string,
    fannedOutAt: number,
    deliveries: readonly DeliveryRecord[],
  ): Promise<boolean> {
    const event = this.tables.securityEvents.get(eventId);
    if (!event || event.leaseOwner !== owner || event.fannedOutAt !== null) return false;
    if (deliveries.some((d) => this.tables.deliveries.has(d.id))) throw new Error('duplicate delivery id');
    Object.assign(event, { fannedOutAt, leaseOwner: null, leaseUntil: null });
    for (const delivery of deliveries) this.tables.deliveries.set(delivery.id, { ...delivery });
    return true;
  }

  async listSecurityEvents(filter: { type?: string; limit: number }) {
    return [...this.tables.securityEvents.values()]
      .filter((e) => filter.type === undefined || e.type === filter.type)
      .sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1))
      .slice(0, filter.limit)
      .map((e) => ({ ...publicEvent(e), fannedOutAt: e.fannedOutAt }));
  }

  async deleteFannedOutEventsBefore(before: number): Promise<number> {
    let deleted = 0;
    for (const [id, event] of this.tables.securityEvents) {
      if (event.fannedOutAt !== null && event.at < before) {
        this.tables.securityEvents.delete(id);
        deleted++;
      }
    }
    return deleted;
  }
}
