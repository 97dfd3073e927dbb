import type { Audit } from '../core/audit.js';
import { backoffMs, PollingLoop } from '../core/polling-loop.js';
import type { Runtime } from '../core/runtime.js';
import { silentTelemetry, type Telemetry } from '../core/telemetry.js';
import { newRandomId } from '../core/tokens.js';
import type { MailOutboxStore, MailRecord } from '../store/ports/mail-outbox.js';
import type { MailLog, MailTransport } from './transports.js';

export interface DeliveryPolicy {
  /** How often the outbox is polled when nothing nudges the worker (other nodes' mail, retries). */
  pollIntervalMs: number;
  /** How long a claimed message is this node's; past it another node may retry (crash). */
  leaseMs: number;
  batchSize: number;
  /** Attempts before a message is given up on (status failed, visible to admins). */
  maxAttempts: number;
  /** Backoff after the n-th failure: base × 2^(n−1), capped. */
  baseBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  pollIntervalMs: 2_000,
  leaseMs: 120_000,
  batchSize: 20,
  // 30 s, 1 min, 2 min … capped at an hour: about a day of trying.
  maxAttempts: 12,
  baseBackoffMs: 30_000,
  maxBackoffMs: 3_600_000,
};

/**
 * The delivery worker, outside core: claims due messages from the outbox with a lease, hands
 * each to the transport, and records the outcome. A refused or unreachable SMTP server puts the
 * message back with exponential backoff; after maxAttempts it is marked failed, logged as an
 * error and audited, never dropped silently. Several nodes may run it against one database.
 */
export class MailDelivery {
  readonly owner: string;
  readonly #loop: PollingLoop;
  #log: MailLog = { info() {}, warn() {}, error() {} };
  #telemetry: Telemetry = silentTelemetry;

  constructor(
    private readonly outbox: MailOutboxStore,
    private readonly transport: MailTransport,
    private readonly runtime: Runtime,
    private readonly audit: Audit,
    private readonly policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY,
  ) {
    this.owner = newRandomId(runtime);
    this.#loop = new PollingLoop(policy.pollIntervalMs, () => this.#sendBatch());
  }

  /** Where delivery outcomes are logged (the server's logger). */
  useLogger(log: MailLog): void {
    this.#log = log;
  }

  /** Where delivery outcomes are counted (the instance's metrics). */
  useTelemetry(telemetry: Telemetry): void {
    this.#telemetry = telemetry;
  }

  get log(): MailLog {
    return this.#log;
  }

  get started(): boolean {
    return this.#loop.started;
  }

  start(onError: (error: unknown) => void): void {
    this.#loop.start(onError);
  }

  /** A message was queued: send now rather than at the next poll (only once started). */
  nudge(): void {
    if (this.#loop.started)
      this.run().catch((error) => this.#log.error({ err: error }, 'mail delivery failed'));
  }

  /** One pass over the due messages; concurrent calls share it (and one more pass follows). */
  run(): Promise<void> {
    return this.#loop.run();
  }

  /** Waits for the current pass (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#loop.idle();
  }

  stop(): void {
    this.#loop.stop();
  }

  async close(): Promise<void> {
    await this.#loop.close();
    this.transport.close();
  }

  async #sendBatch(): Promise<number> {
    const now = this.runtime.now();
    const batch = await this.outbox.claimMail(
      now,
      this.owner,
      now + this.policy.leaseMs,
      this.policy.batchSize,
    );
    for (const mail of batch) await this.#deliver(mail);
    return batch.length;
  }

  async #deliver(mail: MailRecord): Promise<void> {
    const fields = { mailId: mail.id, kind: mail.kind, attempt: mail.attempts + 1 };
    try {
      await this.transport.send(mail);
    } catch (error) {
      const attempts = mail.attempts + 1;
      const final = attempts >= this.policy.maxAttempts;
      const wait = backoffMs(attempts, this.policy.baseBackoffMs, this.policy.maxBackoffMs);
      const reason = describe(error);
      await this.outbox.markMailFailed(mail.id, this.owner, {
        attempts,
        nextAttemptAt: this.runtime.now() + wait,
        error: reason,
        final,
      });
      this.#telemetry.mailDelivery(final ? 'failed' : 'retry');
      if (final) {
        this.#log.error({ ...fields, error: reason }, 'mail delivery failed for good');
        await this.audit.record('mail.failed', {
          actorId: null,
          userId: mail.userId,
          detail: { mailId: mail.id, kind: mail.kind, attempts, error: reason },
        });
      } else {
        this.#log.warn({ ...fields, error: reason, retryInMs: wait }, 'mail delivery failed, will retry');
      }
      return;
    }
    await this.outbox.markMailSent(mail.id, this.owner, this.runtime.now());
    this.#telemetry.mailDelivery('sent');
    this.#log.info(fields, 'mail delivered');
  }
}

/** The error as an operator needs it (SMTP code and server text); at most 500 characters. */
function describe(error: unknown): string {
  const e = error as { responseCode?: number; response?: string; code?: string; message?: string };
  const text = e.response ?? e.message ?? String(error);
  return [e.responseCode ?? e.code, text].filter(Boolean).join(' ').slice(0, 500);
}
