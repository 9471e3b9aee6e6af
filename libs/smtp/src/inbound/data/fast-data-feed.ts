/**
 * A faster DATA byte feed for smtp-server (written against 3.21.6). Its SMTPStream.prototype._feedDataStream walks
 * every DATA byte in JavaScript looking for a dot after LF, and copies each chunk onto the four bytes it kept back
 * from the one before: together about a fifth of the event loop's CPU for 300 KB messages. This replacement finds
 * the same candidates with Buffer.indexOf and joins only the few bytes around a chunk boundary. Otherwise it does
 * what the original does, call for call, because the smuggling protections live in those details: the same bytes
 * counted and written (a write of the kept-back bytes and one of the new chunk instead of one write of a copy), the
 * same four bytes kept back, the same remainder handed back to command mode, the same `_atDataStart` handling, a
 * setImmediate after each escape dot, and done only after drain. fast-data-feed.spec.ts runs both side by side.
 */
import { SMTPStream } from 'smtp-server/lib/smtp-stream';

type Done = (err?: Error | null) => void;
type DataStream = NonNullable<SMTPStream['_dataStream']>;

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const LF_DOT = Buffer.from('\n.');
const NOTHING = Buffer.alloc(0);
/** Bytes held back at the end of every chunk, so that a terminator cut by a chunk boundary is seen whole next time. */
const KEEP = 4;

/** Drop-in for SMTPStream.prototype._feedDataStream: escape dots are removed and the final dot ends data mode. */
export function fastFeedDataStream(this: SMTPStream, chunk: Buffer, done: Done): void {
  const kept = this._lastBytes;
  if (kept && kept.length) {
    this._lastBytes = false;
    feed(this, kept, chunk, done);
  } else {
    feed(this, NOTHING, chunk, done);
  }
}

/**
 * Replaces smtp-server's DATA feed with fastFeedDataStream; calling it again does nothing. Throws when the parts it
 * relies on are gone, so that an smtp-server upgrade that renames them fails the tests instead of running unpatched.
 */
export function installFastDataFeed(): void {
  const proto = SMTPStream.prototype as unknown as Record<string, unknown>;
  if (proto._feedDataStream === fastFeedDataStream) return;
  const missing = ['_feedDataStream', '_endDataMode', '_countDataBytes', 'startDataMode'].filter((m) => typeof proto[m] !== 'function');
  const probe = new SMTPStream() as unknown as Record<string, unknown>;
  missing.push(...['_lastBytes', '_atDataStart', '_dataStream', 'dataBytes'].filter((f) => !(f in probe)));
  if (missing.length) {
    throw new Error(
      `smtp-server's SMTPStream no longer has ${missing.join(', ')}: fast-data-feed.ts replaces its _feedDataStream `
        + '(written against smtp-server 3.21.6); compare it with the new smtp-stream.js before installing it again',
    );
  }
  proto._feedDataStream = fastFeedDataStream;
}

/**
 * Feeds one chunk that is `head` followed by `body`. `head` (at most four bytes) is what the original would have
 * prepended with Buffer.concat; positions below are positions in that joined chunk, as in the original's loop.
 */
function feed(stream: SMTPStream, head: Buffer, body: Buffer, done: Done): void {
  const out = stream._dataStream!;
  let hl = head.length;
  let len = hl + body.length;
  const at = (i: number) => (i < hl ? head[i] : body[i - hl]);

  // A "." line right at the start ends an empty message; tested only until the first payload byte is consumed,
  // because a first line "." sent as ".." has had its escape dot stripped and the dot left is content.
  if (stream._atDataStart && len >= 3 && at(0) === DOT && at(1) === CR && at(2) === LF) {
    stream._endDataMode(false, from(head, body, 3), done);
    return;
  }
  if (stream._atDataStart && len >= 2 && at(0) === DOT && at(1) === DOT) {
    if (hl) head = head.subarray(1);
    else body = body.subarray(1);
    hl = head.length;
    len--;
    stream._atDataStart = false;
  }

  // Like the original, a dot is looked at from position 2 on and only while two bytes follow it; the last two
  // positions are looked at next time, through the bytes kept back. Dots whose window reaches into head: byte by byte.
  const headEnd = Math.min(hl + 1, len - 3);
  for (let i = 2; i <= headEnd; i++) {
    if (at(i) !== DOT || at(i - 1) !== LF) continue;
    if (at(i - 2) === CR && at(i + 1) === CR && at(i + 2) === LF) return endAt(stream, out, head, body, i, done);
    if (at(i + 1) === DOT) return escapeAt(stream, out, head, body, i, done);
  }
  // The rest lies within body. Many messages (base64, or text like our benchmark's) have no dot at all: one memchr.
  // Past the first dot that does not start a line, the two-byte search steps over whole lines natively instead.
  const last = body.length - 3;
  let pos = 2;
  while (pos <= last) {
    let dot = body.indexOf(DOT, pos);
    if (dot === -1 || dot > last) break;
    if (body[dot - 1] !== LF) {
      const lf = body.indexOf(LF_DOT, dot + 1);
      if (lf === -1 || lf + 1 > last) break;
      dot = lf + 1;
    }
    if (body[dot - 2] === CR && body[dot + 1] === CR && body[dot + 2] === LF) return endAt(stream, out, head, body, hl + dot, done);
    if (body[dot + 1] === DOT) return escapeAt(stream, out, head, body, hl + dot, done);
    pos = dot + 1;
  }

  stream._lastBytes = tail(head, body, KEEP);
  if (len <= KEEP) return done();
  stream._countDataBytes(len - KEEP);
  if (!out.writable) return done();
  if (write(out, head, body, len - KEEP) || out.destroyed) return done();
  // A stream that the application destroys never drains, it only closes.
  const onDrain = () => {
    out.removeListener('drain', onDrain);
    out.removeListener('close', onDrain);
    done();
  };
  out.once('drain', onDrain);
  out.once('close', onDrain);
}

/** The terminator's dot is at `i`: everything before it is content, everything after its CRLF goes back to command mode. */
function endAt(stream: SMTPStream, out: DataStream, head: Buffer, body: Buffer, i: number, done: Done): void {
  stream._countDataBytes(i);
  const remainder = from(head, body, i + 3);
  if (i <= head.length) return stream._endDataMode(head.subarray(0, i), remainder, done);
  if (head.length && out.writable) out.write(head);
  stream._endDataMode(body.subarray(0, i - head.length), remainder, done);
}

/** An escape dot at `i`: write what is before it and go on after it on the next turn of the event loop, as the original does. */
function escapeAt(stream: SMTPStream, out: DataStream, head: Buffer, body: Buffer, i: number, done: Done): void {
  stream._lastBytes = false;
  stream._countDataBytes(i);
  if (out.writable) write(out, head, body, i);
  const restHead = i + 1 < head.length ? head.subarray(i + 1) : NOTHING;
  const restBody = i + 1 < head.length ? body : body.subarray(i + 1 - head.length);
  setImmediate(() => feed(stream, restHead, restBody, done));
}

/**
 * Writes the first `n` bytes of head + body. Two writes under cork: write() then answers for both together, so a
 * full stream asks for drain exactly when the original's single write of the joined bytes would.
 */
function write(out: DataStream, head: Buffer, body: Buffer, n: number): boolean {
  if (n <= head.length) return out.write(n === head.length ? head : head.subarray(0, n));
  if (!head.length) return out.write(n === body.length ? body : body.subarray(0, n));
  out.cork();
  out.write(head);
  const ok = out.write(body.subarray(0, n - head.length));
  out.uncork();
  return ok;
}

/** head + body from position `start` as one buffer; a copy only if it starts inside head, which a remainder never does. */
function from(head: Buffer, body: Buffer, start: number): Buffer {
  if (start >= head.length) return body.subarray(start - head.length);
  return Buffer.concat([head.subarray(start), body]);
}

/** The last `n` bytes of head + body (all of it when shorter) as one buffer; a copy of at most `n` bytes. */
function tail(head: Buffer, body: Buffer, n: number): Buffer {
  if (body.length >= n) return body.subarray(body.length - n);
  if (!head.length) return body;
  const fromHead = Math.min(head.length, n - body.length);
  return body.length ? Buffer.concat([head.subarray(head.length - fromHead), body]) : head.subarray(head.length - fromHead);
}
