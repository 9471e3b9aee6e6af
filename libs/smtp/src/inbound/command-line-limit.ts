/**
 * The command-line length limit (RFC 5321 §4.5.3.1.4; ours is a setting) in front of smtp-server's command parser.
 * smtp-server's own limit (16 KB) answers 421 and drops the connection, and a line under it runs whatever its
 * length. Here a line longer than the limit is read to its end and thrown away whole: it is neither run nor split
 * into pieces that could run, and the client gets `500 5.5.2` in its place, in order with its other replies.
 * DATA content is not looked at: it has its own limits (data/message-scanner.ts).
 */
import type { Writable } from 'node:stream';

/** The parts of smtp-server's SMTPStream this reads; all are plain fields of that class. */
export interface CommandParser extends Writable {
  _dataMode: boolean;
  _remainder: string;
  isClosed: boolean;
  _write(chunk: Buffer, encoding: BufferEncoding, next: (err?: Error | null) => void): void;
}

export interface CommandLineLimit {
  /** Longest line in octets, its CRLF included; read for every chunk, so a settings change applies at once. */
  maxBytes(): number;
  /** A line over the limit ended (or the connection must hear about it now): reply, in order. */
  onTooLong(): void;
}

const LF = 0x0a;

/** Wraps `parser._write`; call once per parser (smtp-server makes a new one after STARTTLS). */
export function limitCommandLines(parser: CommandParser, limit: CommandLineLimit): void {
  const write = parser._write.bind(parser);
  /** Inside an over-long line: drop input up to its LF. */
  let discarding = false;

  const feed = (chunk: Buffer, next: (err?: Error | null) => void): void => {
    if (parser.isClosed || parser._dataMode || chunk.length === 0) {
      if (chunk.length === 0) return next();
      return write(chunk, 'binary', next);
    }
    if (discarding) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) return next();
      discarding = false;
      limit.onTooLong();
      return feed(chunk.subarray(lf + 1), next);
    }
    const max = limit.maxBytes();
    // The line in progress may have begun in an earlier chunk (smtp-server keeps it as a latin1 string).
    let lineLength = parser._remainder.length;
    let lineStart = 0;
    for (;;) {
      const lf = chunk.indexOf(LF, lineStart);
      const end = lf < 0 ? chunk.length : lf;
      // Counted with its CRLF, as RFC 5321 counts; a bare LF line is measured the same.
      const withEnding = lineLength + (end - lineStart) + (end > lineStart && chunk[end - 1] === 0x0d ? 1 : 2);
      if (withEnding > max) {
        // Everything before this line goes to the parser as usual; it may switch to DATA, and then the rest is content.
        return passThen(chunk.subarray(0, lineStart), next, () => {
          if (parser._dataMode || parser.isClosed) return write(chunk.subarray(lineStart), 'binary', next);
          parser._remainder = '';
          if (lf < 0) {
            discarding = true;
            return next();
          }
          limit.onTooLong();
          return feed(chunk.subarray(lf + 1), next);
        });
      }
      if (lf < 0) return write(chunk, 'binary', next);
      lineLength = 0;
      lineStart = lf + 1;
    }
  };

  const passThen = (head: Buffer, next: (err?: Error | null) => void, then: () => void): void => {
    if (head.length === 0) return then();
    write(head, 'binary', (err) => (err ? next(err) : then()));
  };

  parser._write = (chunk, _encoding, next) => feed(chunk, next);
}
