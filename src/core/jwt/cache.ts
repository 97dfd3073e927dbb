/**
 * The verified-token cache: a bounded LRU from the exact token string to its verified claims.
 * A hit skips parsing and the signature check, so it must be exactly as safe as a miss:
 * - keyed by the whole token, so only byte-identical tokens share an entry (no hash collisions
 *   to reason about; the price is the token's length in memory per entry);
 * - served only inside [validFrom, validUntil): an entry never outlives the token's `exp`;
 * - bounded in size, evicting the least recently used, so a flood of distinct valid tokens
 *   costs memory up to the bound and no more.
 * It caches successes only: a refused token costs a full check every time (rate limits
 * belong in front of the verifier, not in a cache that an attacker could fill).
 */
export class VerifiedTokenCache<Value> {
  // A Map iterates in insertion order; re-inserting on each hit keeps it in recency order.
  private readonly entries = new Map<string, { value: Value; validFrom: number; validUntil: number }>();

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
    this.entries.delete(token);
    if (nowMs < entry.validFrom || nowMs >= entry.validUntil) return undefined;
    this.entries.set(token, entry);
    return entry.value;
  }

  set(token: string, value: Value, validFrom: number, validUntil: number, nowMs: number): void {
    if (this.maxEntries === 0 || nowMs >= validUntil) return;
    this.entries.delete(token);
    this.entries.set(token, { value, validFrom, validUntil });
    // Drop expired entries from the old end as we go, so dead tokens do not wait for eviction.
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && nowMs < entry.validUntil) break;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
