import { PollingLoop } from '../core/polling-loop.js';
import type { Runtime } from '../core/runtime.js';
import { newRandomId } from '../core/tokens.js';
import type { DeliveryRecord, SecurityEventStore } from '../store/ports/index.js';
import type { EventLog } from './http-delivery.js';

/** A security event as fan-out handlers see it: the stored record with its data parsed. */
export interface SecurityEvent {
  id: string;
  /** core/security-events.ts, SECURITY_EVENT_TYPES. */
  type: string;
  /** Epoch milliseconds. */
  at: number;
  userId: string | null;
  /**
   * `session.revoked`: `{ cause, everyone?, logins: [{ id, userId, clientId? }] }`; the other
   * types (from the audit path): `{ actorId, sessionId, ip, userAgent, detail }`.
   */
  data: Record<string, unknown>;
}

/** One HTTP delivery a handler wants made for an event. */
export interface DeliveryDraft {
  /** Where to POST. Checked again at send time (scheme, and addresses outside development). */
  url: string;
  /** A registered format (DeliveryWorker.registerFormat): 'standard', 'set', or the handler's own. */
  format: string;
  /** JSON-serialisable; the format encodes (and signs) it at send time. Never a secret. */
  payload: unknown;
  /** Who it is for (a webhook endpoint id, a relying party's client id); listed and filtered by it. */
  endpointId?: string | null;
}

/**
 * Turns one event into deliveries. Pure with respect to the outbox: it returns drafts, it never
 * writes; the fan-out commits them with the event's completion in one transaction. It may read
 * (endpoints, clients) and may be called again for the same event if a node crashed before
 * committing (then its earlier drafts were never stored). Throwing leaves the event for a retry
 * after the lease (one minute).
 */
export type FanoutHandler = (event: SecurityEvent) => DeliveryDraft[] | Promise<DeliveryDraft[]>;

export interface FanoutPolicy {
  /** How often events are looked for (every node; an indexed read of the oldest few). */
  pollIntervalMs: number;
  /** How long a claimed event is this node's; past it another node fans it out (crash). */
  leaseMs: number;
  batchSize: number;
}

export const DEFAULT_FANOUT_POLICY: FanoutPolicy = { pollIntervalMs: 250, leaseMs: 60_000, batchSize: 20 };

/**
 * The durable fan-out: leases events not yet fanned out (compare-and-set, any node), asks every
 * registered handler for its deliveries, and commits them together with the event's completion
 * (SecurityEventStore.completeFanout). A crash between an event and its deliveries therefore
 * loses nothing (the lease runs out, another node redoes it) and duplicates nothing (nothing of
 * the first attempt was committed).
 */
export class EventFanout {
  readonly owner: string;
  readonly #handlers = new Set<FanoutHandler>();
  readonly #loop: PollingLoop;

  constructor(
    private readonly store: SecurityEventStore,
    private readonly runtime: Runtime,
    /** Called after deliveries were committed (nudges this node's delivery worker). */
    private readonly onDeliveries: () => void,
    private readonly log: () => EventLog,
    private readonly policy: FanoutPolicy = DEFAULT_FANOUT_POLICY,
  ) {
    this.owner = newRandomId(runtime);
    this.#loop = new PollingLoop(policy.pollIntervalMs, () => this.#step());
  }

  /** Adds a handler for every event from now on; returns a function that removes it. */
  registerFanout(handler: FanoutHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  start(onError: (error: unknown) => void): void {
    this.#loop.start(onError);
  }

  nudge(): void {
    this.#loop.nudge();
  }

  run(): Promise<void> {
    return this.#loop.run();
  }

  idle(): Promise<void> {
    return this.#loop.idle();
  }

  close(): Promise<void> {
    return this.#loop.close();
  }

  async #step(): Promise<number> {
    const now = this.runtime.now();
    const events = await this.store.claimSecurityEvents(
      now,
      this.owner,
      now + this.policy.leaseMs,
      this.policy.batchSize,
    );
    let committed = 0;
    for (const record of events) {
      const event: SecurityEvent = {
        id: record.id,
        type: record.type,
        at: record.at,
        userId: record.userId,
        data: JSON.parse(record.data) as Record<string, unknown>,
      };
      let drafts: DeliveryDraft[];
      try {
        drafts = [];
        for (const handler of this.#handlers) drafts.push(...(await handler(event)));
      } catch (error) {
        this.log().error(
          { err: error, eventId: event.id, type: event.type },
          'event fan-out failed, will retry',
        );
        continue;
      }
      const at = this.runtime.now();
      const deliveries = drafts.map(
        (draft): DeliveryRecord => ({
          id: newRandomId(this.runtime),
          eventId: event.id,
          eventType: event.type,
          endpointId: draft.endpointId ?? null,
          format: draft.format,
          url: draft.url,
          payload: JSON.stringify(draft.payload),
          status: 'pending',
          attempts: 0,
          nextAttemptAt: at,
          leaseOwner: null,
          leaseUntil: null,
          lastError: null,
          lastStatus: null,
          createdAt: at,
          deliveredAt: null,
        }),
      );
      if (await this.store.completeFanout(event.id, this.owner, at, deliveries))
        committed += deliveries.length;
    }
    if (committed > 0) this.onDeliveries();
    return events.length;
  }
}
