/**
 * The verified-token cache: a bounded LRU from the exact token string to its verified claims.
 * A hit skips parsing and the signature check, so it must be exactly as safe as a miss:
 * - keyed by the whole token, so only byte-identical tokens share an entry (no hash collisions
 *   to reason about; the price is the token's length in memory per entry);
 * - served only inside [validFrom, validUntil): an entry never outlives the token's `exp`;
 * - bounded in size, evicting by "second chance" (CLOCK, an approximation of least recently
 *   used), so a flood of distinct valid tokens costs memory up to the bound and no more. A hit
 *   only sets a flag: the Map is not reordered on every request (a delete and a re-insert of a
 *   ~600-byte key measured ≈ 1 µs per hit), only when an insert needs room.
 * It caches successes only: a refused token costs a full check every time (rate limits
 * belong in front of the verifier, not in a cache that an attacker could fill).
 */
interface CacheEntry<Value> {
  value: Value;
  validFrom: number;
  validUntil: number;
  /** Served since the eviction walk last passed it. */
  used: boolean;
}

export class VerifiedTokenCache<Value> {
  // A Map iterates in insertion order: the oldest insert first, where eviction looks.
  private readonly entries = new Map<string, CacheEntry<Value>>();

  constructor(readonly maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError('The cache size must be a non-negative integer.');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get(token: string, nowMs: number): Value | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (nowMs < entry.validFrom || nowMs >= entry.validUntil) {
      this.entries.delete(token);
      return undefined;
    }
    entry.used = true;
    return entry.value;
  }

  set(token: string, value: Value, validFrom: number, validUntil: number, nowMs: number): void {
    if (this.maxEntries === 0 || nowMs >= validUntil) return;
    this.entries.delete(token);
    this.entries.set(token, { value, validFrom, validUntil, used: false });
    // From the old end: drop expired entries as we go, so dead tokens do not wait for eviction;
    // while over the bound, an entry used since it was last looked at here gets a second chance
    // (moved to the new end, flag cleared), an unused one is evicted. Each step deletes or
    // clears a flag, so the walk ends.
    for (const [oldest, entry] of this.entries) {
      const expired = nowMs >= entry.validUntil;
      if (!expired && this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
      if (!expired && entry.used) {
        entry.used = false;
        this.entries.set(oldest, entry);
      }
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
