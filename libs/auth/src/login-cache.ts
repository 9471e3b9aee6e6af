/**
 * Verified sign-ins kept in memory for a short while (Dovecot's auth_cache_size/auth_cache_ttl), so a client that
 * logs in again and again does not pay argon2id each time. An entry holds no password: only an HMAC, under a key
 * made at start and never stored, of the password together with the stored hash it was verified against. A changed
 * password changes the stored hash, so the entry no longer matches; status (suspension, delete, protocol switch) is
 * read from the database on every sign-in and never cached. Only successes are kept.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface LoginCacheOptions {
  /** How long a verified sign-in is trusted without argon2id; 0 turns the cache off. */
  ttlMs: number;
  /** Entries kept at most; the least recently used goes first. */
  maxEntries: number;
  /** Clock in ms (tests move it). */
  now?: () => number;
}

interface Entry {
  proof: Buffer;
  expiresAt: number;
}

export class LoginCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Entry>();
  /** Checks running now, by address: a client opening several connections at once pays argon2id once. */
  private readonly running = new Map<string, { proof: Buffer; result: Promise<boolean> }>();
  private readonly now: () => number;

  constructor(private readonly options: LoginCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** True when `password` was verified against exactly `storedHash` for `address` within the TTL. */
  matches(address: string, storedHash: string, password: string): boolean {
    if (!this.enabled) return false;
    const entry = this.entries.get(address);
    if (!entry) return false;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(address);
      return false;
    }
    const ok = timingSafeEqual(entry.proof, this.proof(address, storedHash, password));
    if (ok) {
      // Most recently used last, so eviction takes the oldest.
      this.entries.delete(address);
      this.entries.set(address, entry);
    }
    return ok;
  }

  /** Call only after the password was verified against `storedHash`. */
  remember(address: string, storedHash: string, password: string): void {
    if (!this.enabled) return;
    this.entries.delete(address);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(address, { proof: this.proof(address, storedHash, password), expiresAt: this.now() + this.options.ttlMs });
  }

  /**
   * Runs `check` (the argon2id verification of `password` against `storedHash`), or joins the one running for the
   * same address, stored hash and password. A failure is shared only with attempts made while it ran, never kept.
   */
  async verifyOnce(address: string, storedHash: string, password: string, check: () => Promise<boolean>): Promise<boolean> {
    if (!this.enabled) return check();
    const proof = this.proof(address, storedHash, password);
    const running = this.running.get(address);
    if (running && timingSafeEqual(running.proof, proof)) return running.result;
    const result = check();
    if (!running) {
      this.running.set(address, { proof, result });
      const done = () => {
        if (this.running.get(address)?.result === result) this.running.delete(address);
      };
      result.then(done, done);
    }
    return result;
  }

  forget(address: string): void {
    this.entries.delete(address);
  }

  private proof(address: string, storedHash: string, password: string): Buffer {
    return createHmac('sha256', this.key).update(address).update('\0').update(storedHash).update('\0').update(password).digest();
  }
}
