import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { backoffMs, PollingLoop } from '../core/polling-loop.js';
import type { Runtime } from '../core/runtime.js';
import { newRandomId } from '../core/tokens.js';
import type { DeliveryOutboxStore, DeliveryRecord } from '../store/ports/index.js';
import { DestinationRefused, type Destinations } from './destinations.js';

export interface EventLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** An HTTP request body and its headers, built (and signed) at send time. */
export interface EncodedDelivery {
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/**
 * How a delivery's stored payload becomes a request. Encoders sign at send time (Standard
 * Webhooks' timestamp must be fresh; SETs use the keyring's current key). Throwing fails the
 * attempt like an unreachable receiver (retried), unless the error says `final: true`.
 */
export type DeliveryFormat = (delivery: DeliveryRecord) => EncodedDelivery | Promise<EncodedDelivery>;

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

/** An encoder's error that no retry can fix (the endpoint was deleted): the delivery fails now. */
export class PermanentDeliveryError extends Error {
  readonly final = true;
}

export interface HttpDeliveryPolicy {
  pollIntervalMs: number;
  /** Longer than timeoutMs, so a lease never runs out under a request still in flight. */
  leaseMs: number;
  batchSize: number;
  /** Requests in flight at once on this node: a slow receiver holds one slot, never the worker. */
  maxInFlight: number;
  /** The whole request, connect to last byte of the answer's head. */
  timeoutMs: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Retries stop once the backoff waited adds up to this (24 h): the delivery is marked failed. */
  giveUpAfterMs: number;
}

export const DEFAULT_HTTP_DELIVERY_POLICY: HttpDeliveryPolicy = {
  pollIntervalMs: 1_000,
  leaseMs: 60_000,
  batchSize: 20,
  maxInFlight: 32,
  timeoutMs: 10_000,
  // 5 s, 10 s, 20 s … capped at an hour, for 24 hours (about 31 attempts).
  baseBackoffMs: 5_000,
  maxBackoffMs: 3_600_000,
  giveUpAfterMs: 24 * 3_600_000,
};

/** How many attempts fit in the policy's window: the n-th failure is final when n reaches it. */
export function attemptsWithin(policy: HttpDeliveryPolicy): number {
  let waited = 0;
  let attempts = 0;
  while (waited < policy.giveUpAfterMs) {
    attempts++;
    waited += backoffMs(attempts, policy.baseBackoffMs, policy.maxBackoffMs);
  }
  return attempts + 1;
}

/**
 * The delivery worker, on every node: leases due deliveries (compare-and-set), POSTs each with
 * its format's encoding, a timeout and the SSRF-guarded lookup, and records the outcome: any 2xx
 * is accepted; anything else (or no answer) is retried with exponential backoff for 24 h, then
 * marked failed. It holds nothing per delivery beyond the requests in flight (at most
 * maxInFlight), and reads no more of an answer than its status, so a receiver that answers 500
 * forever costs rows in the outbox, never memory here.
 */
export class DeliveryWorker {
  readonly owner: string;
  readonly #formats = new Map<string, DeliveryFormat>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #loop: PollingLoop;
  readonly #maxAttempts: number;
  #log: EventLog = { info() {}, warn() {}, error() {} };
  #claimedSoFar = 0;
  #onGiveUp: (delivery: DeliveryRecord, error: string) => Promise<void> = async () => undefined;
  readonly #outcomeListeners = new Set<(outcome: DeliveryOutcome, delivery: DeliveryRecord) => void>();

  constructor(
    private readonly store: DeliveryOutboxStore,
    private readonly runtime: Runtime,
    private readonly destinations: Destinations,
    private readonly policy: HttpDeliveryPolicy = DEFAULT_HTTP_DELIVERY_POLICY,
  ) {
    this.owner = newRandomId(runtime);
    this.#loop = new PollingLoop(policy.pollIntervalMs, () => this.#step());
    this.#maxAttempts = attemptsWithin(policy);
  }

  /** Adds (or replaces) the encoder of a delivery format. */
  registerFormat(name: string, format: DeliveryFormat): void {
    this.#formats.set(name, format);
  }

  /** Called once per delivery given up on (after its final failure was recorded): the audit row. */
  onGiveUp(listener: (delivery: DeliveryRecord, error: string) => Promise<void>): void {
    this.#onGiveUp = listener;
  }

  /**
   * Every attempt's outcome (metrics: deliveries by outcome and format): `delivered`, `retry`
   * (failed, will retry) or `failed` (given up). Listeners must not throw or block.
   */
  onOutcome(listener: (outcome: DeliveryOutcome, delivery: DeliveryRecord) => void): () => void {
    this.#outcomeListeners.add(listener);
    return () => this.#outcomeListeners.delete(listener);
  }

  #report(outcome: DeliveryOutcome, delivery: DeliveryRecord): void {
    for (const listener of this.#outcomeListeners) listener(outcome, delivery);
  }

  useLogger(log: EventLog): void {
    this.#log = log;
  }

  get log(): EventLog {
    return this.#log;
  }

  /** Deliveries this worker has claimed since it was made (drain: whether a pass found work). */
  get claimedSoFar(): number {
    return this.#claimedSoFar;
  }

  /** Requests in flight on this node now (tests: a failing receiver never grows it). */
  get inFlight(): number {
    return this.#inFlight.size;
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

  /** Waits until no pass runs and no request is in flight (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      await this.#loop.idle();
      if (this.#inFlight.size === 0) return;
      await Promise.all([...this.#inFlight]);
    }
  }

  async close(): Promise<void> {
    await this.#loop.close();
    await Promise.all([...this.#inFlight]);
  }

  async #step(): Promise<number> {
    const free = this.policy.maxInFlight - this.#inFlight.size;
    if (free <= 0) return 0;
    const now = this.runtime.now();
    const batch = await this.store.claimDeliveries(
      now,
      this.owner,
      now + this.policy.leaseMs,
      Math.min(free, this.policy.batchSize),
    );
    this.#claimedSoFar += batch.length;
    for (const delivery of batch) {
      const running: Promise<void> = this.#deliver(delivery)
        .catch((error: unknown) =>
          this.#log.error({ err: error, deliveryId: delivery.id }, 'delivery bookkeeping failed'),
        )
        .finally(() => {
          this.#inFlight.delete(running);
          // A slot is free: more due work may be waiting.
          this.#loop.nudge();
        });
      this.#inFlight.add(running);
    }
    return batch.length;
  }

  async #deliver(delivery: DeliveryRecord): Promise<void> {
    const fields = { deliveryId: delivery.id, eventType: delivery.eventType, attempt: delivery.attempts + 1 };
    let status: number | null = null;
    let failure: string;
    let final = false;
    try {
      const format = this.#formats.get(delivery.format);
      if (!format) throw new PermanentDeliveryError(`no encoder for the format ${delivery.format}`);
      const encoded = await format(delivery);
      status = await this.#post(delivery.url, encoded);
      if (status >= 200 && status < 300) {
        await this.store.markDelivered(delivery.id, this.owner, this.runtime.now(), status);
        this.#log.info({ ...fields, status }, 'event delivered');
        this.#report('delivered', delivery);
        return;
      }
      failure = `HTTP ${status}`;
    } catch (error) {
      failure = describe(error);
      final = error instanceof PermanentDeliveryError;
    }
    const attempts = delivery.attempts + 1;
    final ||= attempts >= this.#maxAttempts;
    const wait = backoffMs(attempts, this.policy.baseBackoffMs, this.policy.maxBackoffMs);
    await this.store.markDeliveryFailed(delivery.id, this.owner, {
      attempts,
      nextAttemptAt: this.runtime.now() + wait,
      error: failure,
      status,
      final,
    });
    this.#report(final ? 'failed' : 'retry', delivery);
    if (final) {
      this.#log.error({ ...fields, status, error: failure }, 'event delivery failed for good');
      await this.#onGiveUp({ ...delivery, attempts }, failure);
    } else
      this.#log.warn(
        { ...fields, status, error: failure, retryInMs: wait },
        'event delivery failed, will retry',
      );
  }

  /** One POST; resolves with the status once the answer's head arrives (its body is discarded). */
  #post(target: string, encoded: EncodedDelivery): Promise<number> {
    const url = this.destinations.checkUrl(target);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.destinations.addressAllowed(host)) {
      return Promise.reject(new DestinationRefused(`refused address ${host}`));
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = Buffer.from(encoded.body, 'utf8');
    return new Promise<number>((resolve, reject) => {
      const req = send(url, {
        method: 'POST',
        lookup: this.destinations.guardedLookup,
        // No keep-alive pool: nothing stays open toward receivers between deliveries.
        agent: false,
        headers: {
          ...encoded.headers,
          'content-type': encoded.contentType,
          'content-length': String(body.length),
          'user-agent': 'Tessera-Webhooks/1',
        },
        signal: AbortSignal.timeout(this.policy.timeoutMs),
      });
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        // The answer's body means nothing to us: never buffered, the socket closed.
        res.destroy();
      });
      req.on('error', (error) =>
        reject(
          error.name === 'AbortError' ? new Error(`timed out after ${this.policy.timeoutMs} ms`) : error,
        ),
      );
      req.end(body);
    });
  }
}

/** The failure as an operator needs it; at most 300 characters, never a header. */
function describe(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return [e.code, e.message ?? String(error)].filter(Boolean).join(' ').slice(0, 300);
}
