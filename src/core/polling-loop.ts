/**
 * The loop of every outbox worker (mail delivery, the security events' fan-out, HTTP
 * deliveries): a pass every `intervalMs` (other nodes' work, retries coming due) or at once
 * when nudged; passes never overlap (a call during one asks for one more after it); a pass
 * repeats while `step` reports work done, since a short claim may only mean another node won
 * some rows. Timers are unref'd: the loop never keeps a process alive.
 */
export class PollingLoop {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #onError: (error: unknown) => void = () => undefined;

  constructor(
    private readonly intervalMs: number,
    /** One step of a pass; returns how many items it handled (0: nothing left for now). */
    private readonly step: () => Promise<number>,
  ) {}

  get started(): boolean {
    return this.#timer !== undefined;
  }

  start(onError: (error: unknown) => void): void {
    if (this.#timer) return;
    this.#onError = onError;
    const tick = () => this.run().catch(onError);
    this.#timer = setInterval(tick, this.intervalMs);
    this.#timer.unref();
    tick();
  }

  /** New work was queued: run now rather than at the next poll (only once started). */
  nudge(): void {
    if (this.#timer) this.run().catch(this.#onError);
  }

  /** One pass; concurrent calls share it (and one more pass follows). */
  run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          while ((await this.step()) > 0) {}
        } while (this.#again);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Waits for the current pass (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#running;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async close(): Promise<void> {
    this.stop();
    await this.#running?.catch(() => undefined);
  }
}

/** Exponential backoff after the n-th failure (n ≥ 1): base × 2^(n−1), capped at max. */
export const backoffMs = (attempts: number, baseMs: number, maxMs: number): number =>
  Math.min(baseMs * 2 ** (attempts - 1), maxMs);
