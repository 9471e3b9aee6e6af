/**
 * The header fields of an incoming message we must not pass on as they came, removed as the message streams in:
 * - `Authentication-Results` claiming our authserv-id (RFC 8601 §5: anyone can write one; only ours may carry our
 *   name, and ours is added after this), and one too long to read its authserv-id from (it could hide ours);
 * - every `X-Spam-*` field (a sender could mark its own mail as ham; SpamAssassin's verdict is added by us).
 * It also keeps the values of the `From:` fields, for the submission check that they are the user's own.
 * Only the header is looked at; a field is held in memory only while undecided (at most `maxHeldBytes`), so a
 * huge header costs no more than a small one. Pure (no streams), fed the normalised output of MessageScanner
 * (CRLF line ends), like it.
 */

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
/** Longer than any real field name (RFC 5322 allows 998 octets a line; names are short). */
const MAX_NAME_BYTES = 256;

export interface HeaderFilterOptions {
  /** Our authserv-id: `Authentication-Results` naming it are removed. */
  authservId: string;
  /** An Authentication-Results field still undecided at this size is removed; a From: value past it is cut. */
  maxHeldBytes?: number;
}

type FieldMode = 'keep' | 'drop' | 'hold';

export class HeaderFilter {
  /** Raw values of the From: fields (unfolded), in order. */
  readonly from: string[] = [];
  /** A From: value was longer than maxHeldBytes (and cut there). */
  fromTruncated = false;
  /** Names of the fields removed, for the log. */
  readonly removed: string[] = [];

  private inHeader = true;
  private atLineStart = true;
  private readingName = false;
  private name: Buffer[] = [];
  private nameBytes = 0;
  private mode: FieldMode = 'keep';
  private fieldName = '';
  private held: Buffer[] = [];
  private heldBytes = 0;
  private recordFrom = false;
  private fromValue: Buffer[] = [];
  private fromBytes = 0;
  private readonly maxHeld: number;
  private readonly ourId: string;

  constructor(o: HeaderFilterOptions) {
    this.maxHeld = o.maxHeldBytes ?? 64 * 1024;
    this.ourId = o.authservId.toLowerCase();
  }

  /** What to store of `chunk`. */
  feed(chunk: Buffer): Buffer {
    if (!this.inHeader) return chunk;
    const out: Buffer[] = [];
    let i = 0;
    while (i < chunk.length && this.inHeader) {
      if (this.atLineStart && !this.readingName) {
        const b = chunk[i];
        if (b === SP || b === HT) {
          // A continuation line of the current field.
          this.atLineStart = false;
          continue;
        }
        this.endField(out);
        if (b === CR || b === LF) {
          // The empty line: the body follows, untouched.
          this.inHeader = false;
          break;
        }
        this.readingName = true;
        this.name = [];
        this.nameBytes = 0;
      }
      if (this.readingName) {
        const colon = chunk.indexOf(COLON, i);
        const lf = chunk.indexOf(LF, i);
        let stop = chunk.length;
        if (colon >= 0) stop = colon;
        if (lf >= 0 && lf < stop) stop = lf;
        stop = Math.min(stop, i + (MAX_NAME_BYTES - this.nameBytes));
        this.name.push(chunk.subarray(i, stop));
        this.nameBytes += stop - i;
        i = stop;
        if (i >= chunk.length) continue;
        // The name is known (colon), or this is no field (line end, or too long a "name"): kept as it is.
        this.readingName = false;
        this.atLineStart = false;
        this.startField(chunk[i] === COLON ? Buffer.concat(this.name).toString('latin1').trim().toLowerCase() : '', out);
        continue;
      }
      // Inside a line of the current field: up to and including its LF.
      const lf = chunk.indexOf(LF, i);
      const end = lf < 0 ? chunk.length : lf + 1;
      this.take(chunk.subarray(i, end), out);
      i = end;
      if (lf >= 0) this.atLineStart = true;
    }
    if (!this.inHeader && i < chunk.length) out.push(chunk.subarray(i));
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** The rest at the end of the message (a message that is all header). */
  end(): Buffer {
    const out: Buffer[] = [];
    if (this.inHeader) {
      if (this.readingName) {
        this.readingName = false;
        this.startField('', out);
      }
      this.endField(out);
      this.inHeader = false;
    }
    return Buffer.concat(out);
  }

  private startField(name: string, out: Buffer[]): void {
    const nameBytes = Buffer.concat(this.name);
    this.name = [];
    this.fieldName = name;
    this.recordFrom = name === 'from';
    if (name.startsWith('x-spam-')) this.mode = 'drop';
    else if (name === 'authentication-results') this.mode = 'hold';
    else this.mode = 'keep';
    this.take(nameBytes, out, true);
  }

  private take(bytes: Buffer, out: Buffer[], isName = false): void {
    if (bytes.length === 0) return;
    if (this.mode === 'keep') {
      out.push(bytes);
      if (this.recordFrom && !isName) this.recordFromBytes(bytes);
      return;
    }
    if (this.mode === 'drop') return;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    const decision = this.decideHeld(false);
    if (decision) this.release(decision, out);
  }

  private recordFromBytes(bytes: Buffer): void {
    const room = this.maxHeld - this.fromBytes;
    if (room <= 0) {
      this.fromTruncated = true;
      return;
    }
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    if (part.length < bytes.length) this.fromTruncated = true;
    this.fromValue.push(Buffer.from(part));
    this.fromBytes += part.length;
  }

  private endField(out: Buffer[]): void {
    if (this.mode === 'hold') this.release(this.decideHeld(true) ?? 'keep', out);
    if (this.recordFrom) {
      // The value after the colon, unfolded.
      const value = Buffer.concat(this.fromValue).toString('latin1').replace(/^:/, '').replace(/\r?\n/g, '').trim();
      this.from.push(value);
    }
    if (this.mode === 'drop' && this.fieldName) this.removed.push(this.fieldName);
    this.recordFrom = false;
    this.fromValue = [];
    this.fromBytes = 0;
    this.fieldName = '';
    this.mode = 'keep';
  }

  /** keep/drop once the authserv-id of a held Authentication-Results is known; null: not yet. */
  private decideHeld(complete: boolean): 'keep' | 'drop' | null {
    if (this.heldBytes > this.maxHeld) return 'drop';
    const text = Buffer.concat(this.held).toString('latin1');
    const colon = text.indexOf(':');
    const id = authservIdOf(text.slice(colon + 1), complete);
    if (id === null) return complete ? 'drop' : null;
    return id.toLowerCase() === this.ourId ? 'drop' : 'keep';
  }

  private release(decision: 'keep' | 'drop', out: Buffer[]): void {
    if (decision === 'keep') out.push(...this.held);
    else this.removed.push(this.fieldName);
    this.held = [];
    this.heldBytes = 0;
    // The rest of the field follows the decision.
    this.mode = decision;
    if (decision === 'drop') this.fieldName = '';
  }
}

/**
 * The authserv-id of an Authentication-Results value (RFC 8601 §2.2: CFWS, the id, an optional version, then `;`):
 * comments (nested) and white space skipped. null while the `;` has not come and the field may go on.
 */
export function authservIdOf(value: string, complete: boolean): string | null {
  let depth = 0;
  let token = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      else token += c;
      continue;
    }
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    if (c === '(') depth++;
    else if (c === '"') quoted = true;
    else if (c === ';') return firstWord(token);
    else token += c;
  }
  return complete ? firstWord(token) : null;
}

function firstWord(s: string): string {
  return s.trim().split(/\s+/)[0] ?? '';
}
