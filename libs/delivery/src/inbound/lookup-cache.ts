/**
 * A short-lived memo of lookups: the same key asked again within `ttlMs` shares the first answer (or the lookup still
 * running), so a busy MX asks the database once a second per address instead of once per message. Failures, and
 * answers the caller says not to keep, are not kept. Bounded: past `maxEntries` the oldest entries go first.
 */
export class LookupCache<V> {
  private readonly entries = new Map<string, { at: number; value: Promise<V> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `keep` false: the answer serves the callers already waiting for it, and is not kept. */
  get(key: string, lookUp: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    if (this.ttlMs <= 0) return lookUp();
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && t - hit.at < this.ttlMs) return hit.value;
    if (hit) this.entries.delete(key);
    const value = lookUp();
    this.entries.set(key, { at: t, value });
    const forget = () => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    };
    value.then((v) => {
      if (!keep(v)) forget();
    }, forget);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
