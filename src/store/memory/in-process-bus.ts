import { EventEmitter } from 'node:events';
import type { RevocationBus } from '../bus.js';
import type { RevocationRecord } from '../ports/index.js';

/** A bus inside one process: for a single node, or for several Tessera instances in one test. */
export class InProcessBus implements RevocationBus {
  readonly engine = 'in-process';
  readonly #emitter = new EventEmitter().setMaxListeners(0);

  async publish(record: RevocationRecord): Promise<void> {
    this.#emitter.emit('revocation', { ...record });
  }

  async subscribe(listener: (record: RevocationRecord) => void): Promise<() => void> {
    this.#emitter.on('revocation', listener);
    return () => this.#emitter.off('revocation', listener);
  }

  async close(): Promise<void> {
    this.#emitter.removeAllListeners();
  }
}
