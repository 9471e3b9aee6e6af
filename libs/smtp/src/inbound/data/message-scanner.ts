/**
 * DATA checks that must see every byte, applied as the message streams in:
 * - NUL and bare CR are refused (554 5.6.0). Neither has one meaning that every downstream reader agrees
 *   on (SMTP smuggling plays on exactly that), RFC 5321 §2.3.8 forbids both in SMTP, and PostgreSQL
 *   text and IMAP clients choke on NUL. Rewriting them would store something the sender did not send.
 * - bare LF becomes CRLF: it is how Unix tools write, it has one meaning, and after normalising every
 *   line ends the way RFC 5322 says, so relaying (with dot-stuffing) can never end DATA early.
 * - size over the limit: 552 5.3.4 (RFC 3463: message too big for system).
 * - `Received:` lines in the header at or above maxHops: 554 5.4.6 (routing loop). Ours would be one more.
 * Pure (no streams) so it is unit-tested byte by byte; the listener feeds it chunks.
 */
import { reject, Refusal } from '../verdict';

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;
const RECEIVED = Buffer.from('received:');
const CRLF = Buffer.from('\r\n');

export interface ScannerLimits {
  maxBytes: number;
  maxHops: number;
}

export type ScanResult = { ok: true; output: Buffer } | { ok: false; refusal: Refusal };

export class MessageScanner {
  /** Bytes received from the client. */
  bytesIn = 0;
  /** Bytes after normalisation (what is stored, without our Received header). */
  bytesOut = 0;
  hops = 0;
  private pendingCr = false;
  private inHeader = true;
  private atLineStart = true;
  /** How many leading bytes of the current header line still match `received:`; -1 once it cannot. */
  private receivedMatch = 0;
  private lineIsContinuation = false;

  constructor(private readonly limits: ScannerLimits) {}

  feed(chunk: Buffer): ScanResult {
    this.bytesIn += chunk.length;
    const parts: Buffer[] = [];
    let start = 0;
    let i = 0;
    // The header, byte by byte (it is short and hop counting looks at every byte of it); the body below.
    for (; i < chunk.length && this.inHeader; i++) {
      const b = chunk[i];
      if (this.pendingCr) {
        this.pendingCr = false;
        if (b !== LF) return { ok: false, refusal: bareCr() };
      } else if (b === LF) {
        // bare LF: emit up to here, then CRLF instead of it
        parts.push(chunk.subarray(start, i), CRLF);
        start = i + 1;
      }
      if (b === NUL) return { ok: false, refusal: nul() };
      if (b === CR) {
        this.pendingCr = true;
        continue;
      }
      if (b === LF) {
        const hop = this.endLine();
        if (hop) return { ok: false, refusal: hop };
        continue;
      }
      this.headerByte(b);
    }
    if (i < chunk.length && this.pendingCr) {
      // a CR that ended the previous chunk
      this.pendingCr = false;
      if (chunk[i] !== LF) return { ok: false, refusal: bareCr() };
      i++;
    }
    // The body: the same checks and the same first refusal as byte by byte, found with native scans (indexOf) for
    // NUL, CR and LF instead of a loop over every byte. The byte before the body (if any) is an LF (the header loop
    // stops right after one, so does the CR carried over), so an LF at bodyStart is bare like one after any non-CR.
    const bodyStart = i;
    const nulAt = chunk.indexOf(NUL, bodyStart);
    let bareCrAt = -1;
    for (let cr = chunk.indexOf(CR, bodyStart); cr >= 0; cr = chunk.indexOf(CR, cr + 2)) {
      if (cr + 1 === chunk.length) this.pendingCr = true;
      else if (chunk[cr + 1] !== LF) {
        bareCrAt = cr;
        break;
      }
    }
    if (nulAt >= 0 && (bareCrAt < 0 || nulAt < bareCrAt)) return { ok: false, refusal: nul() };
    if (bareCrAt >= 0) return { ok: false, refusal: bareCr() };
    for (let lf = chunk.indexOf(LF, bodyStart); lf >= 0; lf = chunk.indexOf(LF, lf + 1)) {
      if (chunk[lf - 1] === CR) continue;
      parts.push(chunk.subarray(start, lf), CRLF);
      start = lf + 1;
    }
    parts.push(chunk.subarray(start));
    const output = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.bytesOut += output.length;
    if (this.bytesOut > this.limits.maxBytes) return { ok: false, refusal: tooBig(this.limits.maxBytes) };
    return { ok: true, output };
  }

  /** After the last chunk: a CR left hanging at the very end is bare too. */
  end(): ScanResult {
    if (this.pendingCr) return { ok: false, refusal: bareCr() };
    return { ok: true, output: Buffer.alloc(0) };
  }

  private headerByte(b: number): void {
    if (this.atLineStart) {
      this.atLineStart = false;
      this.lineIsContinuation = b === 0x20 || b === 0x09;
      this.receivedMatch = 0;
    }
    if (this.lineIsContinuation || this.receivedMatch < 0 || this.receivedMatch >= RECEIVED.length) return;
    // case-insensitive ASCII compare: set the 0x20 bit of letters only
    const lower = b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
    this.receivedMatch = lower === RECEIVED[this.receivedMatch] ? this.receivedMatch + 1 : -1;
  }

  private endLine(): Refusal | null {
    if (!this.inHeader) return null;
    if (this.atLineStart) {
      // empty line: the header ends
      this.inHeader = false;
      return null;
    }
    if (this.receivedMatch === RECEIVED.length) {
      this.hops += 1;
      if (this.hops >= this.limits.maxHops) return reject(554, '5.4.6', `Too many hops (${this.hops} Received headers), possible mail loop`);
    }
    this.atLineStart = true;
    return null;
  }
}

function nul(): Refusal {
  return reject(554, '5.6.0', 'Message contains NUL characters, which SMTP does not allow');
}

function bareCr(): Refusal {
  return reject(554, '5.6.0', 'Message contains a bare CR (carriage return not followed by line feed)');
}

export function tooBig(maxBytes: number): Refusal {
  return reject(552, '5.3.4', `Message size exceeds the limit of ${maxBytes} bytes`);
}
