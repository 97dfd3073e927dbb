import { createHash } from 'node:crypto';
import type { BreachedPasswordCheck } from './core/accounts.js';

/**
 * The breached-password check (NIST SP 800-63B 3.1.1.2: refuse passwords "obtained from
 * previous breach corpuses") against the Have I Been Pwned range API, with k-anonymity: only
 * the first 5 hex digits of the password's SHA-1 leave the server; the service answers every
 * suffix it knows under that prefix (`SUFFIX:COUNT` lines), and the match is made here. With
 * `Add-Padding: true` the service pads the answer with `SUFFIX:0` lines, so its size does
 * not hint at the prefix either.
 *
 * When the service cannot be reached or answers nonsense within the timeout, the check
 * FAILS OPEN: the password is accepted (it already passed the length and common-password
 * rules), and each such skip is reported to the listeners (a warning log line and an audit
 * event `password.breach_check_skipped`, wired in tessera.ts and app.ts). Failing closed would
 * make an outage of a third-party service an outage of sign-up and password change; an
 * unchecked password is a smaller risk than no accounts at all, and the log makes it visible.
 */

/** The public range endpoint; TESSERA_BREACHED_PASSWORDS_URL replaces it (tests, a mirror). */
export const HIBP_RANGE_URL = 'https://api.pwnedpasswords.com/range/';
/** Registration waits at most this long for the answer (a typical answer takes ~50-200 ms). */
export const BREACH_CHECK_TIMEOUT_MS = 1_500;
/** A real answer is ~30-40 KiB (~800-1,000 lines with padding); far more is not the range API. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export type UnavailableListener = (reason: string) => void;

export class HibpBreachedPasswords implements BreachedPasswordCheck {
  readonly #rangeUrl: string;
  readonly #timeoutMs: number;
  readonly #listeners: UnavailableListener[] = [];
  /** Checks skipped because the service was unavailable, since start (for metrics and tests). */
  skipped = 0;

  constructor(options: { rangeUrl?: string; timeoutMs?: number } = {}) {
    const base = options.rangeUrl ?? HIBP_RANGE_URL;
    this.#rangeUrl = base.endsWith('/') ? base : `${base}/`;
    this.#timeoutMs = options.timeoutMs ?? BREACH_CHECK_TIMEOUT_MS;
  }

  /** Called with a one-line reason each time a check is skipped (fail open). */
  onUnavailable(listener: UnavailableListener): void {
    this.#listeners.push(listener);
  }

  async isBreached(password: string): Promise<boolean> {
    const sha1 = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const prefix = sha1.slice(0, 5);
    const suffix = sha1.slice(5);
    let answer: string;
    try {
      const response = await fetch(`${this.#rangeUrl}${prefix}`, {
        headers: { 'add-padding': 'true', 'user-agent': 'tessera-breached-password-check' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (!response.ok) throw new Error(`answered HTTP ${response.status}`);
      answer = await response.text();
      if (answer.length > MAX_ANSWER_BYTES) throw new Error('answered more than 1 MiB');
    } catch (error) {
      this.#skip(error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : describe(error));
      return false;
    }
    let lines = 0;
    for (const line of answer.split('\n')) {
      const match = /^([0-9A-Fa-f]{35}):(\d+)\s*$/.exec(line);
      if (!match) continue;
      lines++;
      // Padding lines have a count of 0: they are not breached passwords.
      if ((match[1] as string).toUpperCase() === suffix && Number(match[2]) > 0) return true;
    }
    // Every prefix has hundreds of known suffixes: an empty answer is not the range API.
    if (lines === 0) this.#skip('answered no SUFFIX:COUNT lines');
    return false;
  }

  #skip(reason: string): void {
    this.skipped++;
    for (const listener of this.#listeners) listener(reason);
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const text = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return text.split('\n')[0]?.slice(0, 200) ?? 'failed';
}
