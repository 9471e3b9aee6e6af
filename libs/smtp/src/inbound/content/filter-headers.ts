/**
 * The header lines the content checks add to every delivered copy (kept per copy in the message row, like
 * Delivered-To; the blob is not rewritten): clamav-milter's X-Virus-Scanned / X-Virus-Status and SpamAssassin's
 * X-Spam-Flag / X-Spam-Score / X-Spam-Level / X-Spam-Status, which mail clients and Sieve scripts already know.
 */

/** Scanner-supplied text (a signature name) as one safe header value: printable ASCII, no line breaks, bounded. */
export function headerSafe(text: string, max = 200): string {
  const printable = text.replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
  return printable.length > max ? `${printable.slice(0, max - 3)}...` : printable;
}

export function virusHeaders(hostname: string, status: string): string[] {
  return [`X-Virus-Scanned: ClamAV at ${hostname}\r\n`, `X-Virus-Status: ${status}\r\n`];
}

/** A score as SpamAssassin prints it: one decimal. */
export function formatScore(score: number): string {
  return (Math.round(score * 10) / 10).toFixed(1);
}

export interface SpamHeaderInput {
  score: number;
  /** The Junk threshold, shown as `required=`. */
  required: number;
  flagged: boolean;
  symbols: string[];
}

export function spamHeaders(s: SpamHeaderInput): string[] {
  const score = formatScore(s.score);
  const symbols = s.symbols.map((t) => t.replace(/[^A-Za-z0-9_.:-]/g, '')).filter(Boolean);
  const status = foldList(`X-Spam-Status: ${s.flagged ? 'Yes' : 'No'}, score=${score} required=${formatScore(s.required)} tests=`, symbols.length ? symbols : ['none']);
  return [
    ...(s.flagged ? ['X-Spam-Flag: YES\r\n'] : []),
    `X-Spam-Score: ${score}\r\n`,
    // One star per whole point (at most 50), so a Sieve rule can match `X-Spam-Level` `*****` like with SpamAssassin.
    `X-Spam-Level: ${'*'.repeat(Math.min(50, Math.max(0, Math.floor(s.score))))}\r\n`,
    status,
  ];
}

export function spamNotScannedHeader(reason: string): string {
  return `X-Spam-Status: Unknown, not scanned (${headerSafe(reason)})\r\n`;
}

/** `head` followed by the items joined by commas, folded after a comma before 78 columns (RFC 5322 §2.1.1). */
function foldList(head: string, items: string[]): string {
  let out = head;
  let lineLength = head.length;
  items.forEach((item, i) => {
    const piece = i < items.length - 1 ? `${item},` : item;
    if (i > 0 && lineLength + piece.length > 78) {
      out += '\r\n\t';
      lineLength = 1;
    }
    out += piece;
    lineLength += piece.length;
  });
  return `${out}\r\n`;
}
