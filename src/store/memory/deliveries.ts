import type { DeliveryOutboxStore, DeliveryRecord, DeliveryStatus } from '../ports/index.js';
import { compareIds, deleteWhere, type MemoryTables } from './tables.js';

const newestFirst = (a: DeliveryRecord, b: DeliveryRecord) =>
  b.createdAt - a.createdAt || compareIds(b.id, a.id);

export class MemoryDeliveryOutbox implements DeliveryOutboxStore {
  constructor(private readonly tables: MemoryTables) {}

  async claimDeliveries(
    now: number,
    owner: string,
    leaseUntil: number,
    limit: number,
  ): Promise<DeliveryRecord[]> {
    const due = [...this.tables.deliveries.values()]
      .filter(
        (d) =>
          d.status === 'pending' && d.nextAttemptAt <= now && (d.leaseUntil === null || d.leaseUntil <= now),
      )
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt)
      .slice(0, limit);
    for (const delivery of due) {
      delivery.leaseOwner = owner;
      delivery.leaseUntil = leaseUntil;
    }
    return due.map((d) => ({ ...d }));
  }

  async markDelivered(id: string, owner: string, deliveredAt: number, status: number): Promise<boolean> {
    const d = this.tables.deliveries.get(id);
    if (!d || d.leaseOwner !== owner) return false;
    Object.assign(d, {
      status: 'delivered',
      deliveredAt,
      attempts: d.attempts + 1,
      lastStatus: status,
      lastError: null,
      leaseOwner: null,
      leaseUntil: null,
    });
    return true;
  }

  async markDeliveryFailed(
    id: string,
    owner: string,
    failure: {
      attempts: number;
      nextAttemptAt: number;
      error: string;
      status: number | null;
      final: boolean;
    },
  ): Promise<boolean> {
    const d = this.tables.deliveries.get(id);
    if (!d || d.leaseOwner !== owner) return false;
    Object.assign(d, {
      status: failure.final ? 'failed' : 'pending',
      attempts: failure.attempts,
      nextAttemptAt: failure.nextAttemptAt,
      lastError: failure.error,
      lastStatus: failure.status,
      leaseOwner: null,
      leaseUntil: null,
    });
    return true;
  }

  async findDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const d = this.tables.deliveries.get(id);
    return d && { ...d };
  }

  async listDeliveries(filter: {
    endpointId?: string;
    status?: DeliveryStatus;
    limit: number;
    before?: { createdAt: number; id: string };
  }): Promise<DeliveryRecord[]> {
    const { before } = filter;
    return [...this.tables.deliveries.values()]
      .filter(
        (d) =>
          (filter.endpointId === undefined || d.endpointId === filter.endpointId) &&
          (filter.status === undefined || d.status === filter.status) &&
          (!before ||
            d.createdAt < before.createdAt ||
            (d.createdAt === before.createdAt && compareIds(d.id, before.id) < 0)),
      )
      .sort(newestFirst)
      .slice(0, filter.limit)
      .map((d) => ({ ...d }));
  }

  async retryDelivery(id: string, now: number): Promise<boolean> {
    const d = this.tables.deliveries.get(id);
    if (!d) return false;
    Object.assign(d, {
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      leaseOwner: null,
      leaseUntil: null,
    });
    return true;
  }

  async abandonEndpointDeliveries(endpointId: string, reason: string): Promise<number> {
    let n = 0;
    for (const d of this.tables.deliveries.values()) {
      if (d.endpointId !== endpointId || d.status !== 'pending') continue;
      Object.assign(d, { status: 'failed', lastError: reason, leaseOwner: null, leaseUntil: null });
      n++;
    }
    return n;
  }

  async countDeliveries(): Promise<Record<DeliveryStatus, number>> {
    const counts: Record<DeliveryStatus, number> = { pending: 0, delivered: 0, failed: 0 };
    for (const d of this.tables.deliveries.values()) counts[d.status]++;
    return counts;
  }

  async deleteDeliveriesBefore(before: number): Promise<number> {
    return deleteWhere(this.tables.deliveries, (d) => d.status !== 'pending' && d.createdAt < before);
  }
}
