import type { Redis } from 'ioredis';
import type { RevocationBus } from '../bus.js';
import { decodeRevocation, encodeRevocation } from '../bus-message.js';
import type { RevocationRecord } from '../ports/index.js';
import type { RedisConnection } from './connection.js';

/**
 * The revocation bus over Redis pub/sub: PUBLISH on the shared command connection, SUBSCRIBE
 * on a dedicated one (a subscribed connection can do nothing else).
 *
 * Pub/sub delivers at most once: a message sent while a subscriber is disconnected is gone.
 * So whenever the subscription drops, and again once it is re-established, the node is told it
 * may have missed something (`onGap`): it catches up from the revocation log, and until then
 * every hybrid request waits for that catch-up (core/revocations.ts). The resubscription is
 * done here, not by ioredis, so `onGap` comes after SUBSCRIBE has been acknowledged: anything
 * published from then on is delivered.
 */
export class RedisRevocationBus implements RevocationBus {
  readonly engine = 'redis';
  readonly #connection: RedisConnection;
  readonly #channel: string;
  #subscriber: Redis | undefined;

  constructor(connection: RedisConnection) {
    this.#connection = connection;
    this.#channel = connection.channel('revocations');
  }

  async publish(record: RevocationRecord): Promise<void> {
    await this.#connection.client.publish(this.#channel, encodeRevocation(record));
  }

  async subscribe(listener: (record: RevocationRecord) => void, onGap: () => void): Promise<() => void> {
    const subscriber = this.#connection.duplicate({ autoResubscribe: false });
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      const record = decodeRevocation(message);
      // Not a record a node sent: trust the log instead.
      if (record) listener(record);
      else onGap();
    });
    await subscriber.connect();
    await subscriber.subscribe(this.#channel);
    let subscribed = true;
    let stopped = false;
    subscriber.on('close', () => {
      if (stopped || !subscribed) return;
      subscribed = false;
      onGap();
    });
    subscriber.on('ready', () => {
      if (stopped || subscribed) return;
      subscriber.subscribe(this.#channel).then(
        () => {
          subscribed = true;
          onGap();
        },
        // The connection dropped again before SUBSCRIBE was answered: 'ready' comes again.
        () => undefined,
      );
    });
    return () => {
      stopped = true;
      subscriber.disconnect();
    };
  }

  async close(): Promise<void> {
    this.#subscriber?.disconnect();
    this.#subscriber = undefined;
  }
}
