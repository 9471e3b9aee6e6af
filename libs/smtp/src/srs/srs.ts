/**
 * Sender Rewriting Scheme (SRS), laid out as libsrs2 / postsrsd do: mail we forward to another domain leaves
 * with an envelope sender in our forwarding domain, so the next hop's SPF check passes and a bounce comes back
 * to us, and only an address we made (HMAC over its parts, within its age) is turned back into the original.
 *
 *   SRS0=HHHH=TT=orig-domain=orig-local@forwarding-domain                 (first forward)
 *   SRS1=HHHH=first-forwarder==HHHH=TT=orig-domain=orig-local@ours         (forwarding an SRS0 address again)
 *
 * HHHH: HMAC-SHA1 with the secret over the lower-cased parts, base64, first `hashLength` characters; compared
 * case-insensitively, since addresses are lower-cased on the way. TT: days since the epoch modulo 1024 in
 * two base32 characters. Several secrets may be given: the first signs, all verify (rotation).
 */
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DAY_MS = 86_400_000;
/** Two base32 characters hold 10 bits of days. */
const TIME_SLOTS = 1024;
const SRS_PREFIX = /^srs([01])[=+-]/i;

export interface SrsOptions {
  /** The first signs new addresses; every one is accepted when checking (secret rotation). */
  secrets: string[];
  /** Days an SRS0 address stays valid (libsrs2's default is 21). */
  maxAgeDays?: number;
  hashLength?: number;
  now?: () => number;
}

export type SrsReversal =
  | { ok: true; address: string }
  | { ok: false; reason: 'syntax' | 'hash' | 'expired' };

function split(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** Whether an address's local part is an SRS address (of anyone). */
export function isSrsAddress(address: string): boolean {
  const parts = split(address);
  return parts !== null && SRS_PREFIX.test(parts.local);
}

export class Srs {
  private readonly secrets: string[];
  private readonly maxAgeDays: number;
  private readonly hashLength: number;
  private readonly now: () => number;

  constructor(o: SrsOptions) {
    this.secrets = o.secrets.filter((s) => s.length > 0);
    if (this.secrets.length === 0) throw new Error('SRS needs a secret');
    this.maxAgeDays = o.maxAgeDays ?? 21;
    this.hashLength = o.hashLength ?? 4;
    this.now = o.now ?? Date.now;
  }

  /**
   * The envelope sender for `sender`'s mail forwarded by `forwardingDomain`. The null sender stays null; an
   * address already in `forwardingDomain` needs no rewriting.
   */
  forward(sender: string, forwardingDomain: string): string {
    if (sender === '') return '';
    const parts = split(sender);
    if (!parts) return sender;
    const domain = forwardingDomain.toLowerCase();
    if (parts.domain.toLowerCase() === domain) return sender;
    const srs = SRS_PREFIX.exec(parts.local);
    if (srs?.[1] === '0') {
      // SRS0 of another forwarder: keep its address whole, remember which host made it.
      const user = parts.local.slice(4);
      return `SRS1=${this.hash(this.secrets[0], parts.domain, user)}=${parts.domain}=${user}@${domain}`;
    }
    if (srs?.[1] === '1') {
      // Already SRS1: the first forwarder stays, only the hash is ours.
      const m = /^srs1[=+-][^=]*=([^=]+)=(.*)$/i.exec(parts.local);
      if (m) return `SRS1=${this.hash(this.secrets[0], m[1], m[2])}=${m[1]}=${m[2]}@${domain}`;
    }
    const stamp = this.timestamp();
    return `SRS0=${this.hash(this.secrets[0], stamp, parts.domain, parts.local)}=${stamp}=${parts.domain}=${parts.local}@${domain}`;
  }

  /** The address an SRS address of ours stands for: the original sender (SRS0), or the first forwarder's SRS0 (SRS1). */
  reverse(address: string): SrsReversal {
    const parts = split(address);
    const kind = parts ? SRS_PREFIX.exec(parts.local)?.[1] : undefined;
    if (!parts || !kind) return { ok: false, reason: 'syntax' };
    if (kind === '0') {
      const m = /^srs0[=+-]([^=]+)=([^=]{2})=([^=]+)=(.+)$/i.exec(parts.local);
      if (!m) return { ok: false, reason: 'syntax' };
      const [, hash, stamp, domain, local] = m;
      if (!this.verify(hash, stamp, domain, local)) return { ok: false, reason: 'hash' };
      if (!this.fresh(stamp)) return { ok: false, reason: 'expired' };
      return { ok: true, address: `${local}@${domain}` };
    }
    const m = /^srs1[=+-]([^=]+)=([^=]+)=(.+)$/i.exec(parts.local);
    if (!m) return { ok: false, reason: 'syntax' };
    const [, hash, host, user] = m;
    if (!this.verify(hash, host, user)) return { ok: false, reason: 'hash' };
    return { ok: true, address: `SRS0${user}@${host}` };
  }

  private hash(secret: string, ...parts: string[]): string {
    return createHmac('sha1', secret).update(parts.join('').toLowerCase()).digest('base64').slice(0, this.hashLength);
  }

  private verify(given: string, ...parts: string[]): boolean {
    if (given.length !== this.hashLength) return false;
    return this.secrets.some((s) => this.hash(s, ...parts).toLowerCase() === given.toLowerCase());
  }

  private timestamp(): string {
    const days = Math.floor(this.now() / DAY_MS) % TIME_SLOTS;
    return BASE32[(days >> 5) & 31] + BASE32[days & 31];
  }

  private fresh(stamp: string): boolean {
    const hi = BASE32.indexOf(stamp[0].toUpperCase());
    const lo = BASE32.indexOf(stamp[1].toUpperCase());
    if (hi < 0 || lo < 0) return false;
    const then = (hi << 5) | lo;
    const today = Math.floor(this.now() / DAY_MS) % TIME_SLOTS;
    // Days are counted modulo 1024: a stamp "ahead" of today wrapped around.
    const age = (today - then + TIME_SLOTS) % TIME_SLOTS;
    return age <= this.maxAgeDays;
  }
}
