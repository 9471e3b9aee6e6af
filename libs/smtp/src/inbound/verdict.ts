/**
 * The outcome of one policy check (STYLE.md habit 4): `continue` to the next check, `accept` to end the
 * stage successfully, or a refusal that carries its wire code — `reject` (permanent, 5xx) or `defer`
 * (temporary, 4xx) — mapped to an SMTP reply once, in the listener.
 */
export type Verdict =
  | { kind: 'continue' }
  | { kind: 'accept' }
  | Refusal;

export interface Refusal {
  kind: 'reject' | 'defer';
  code: number;
  /** RFC 3463 enhanced status code, `5.1.1`. */
  enhanced: string;
  text: string;
  /** Wait this long before replying (tarpit, failed AUTH). */
  delayMs?: number;
}

export const CONTINUE: Verdict = { kind: 'continue' };
export const ACCEPT: Verdict = { kind: 'accept' };

export function reject(code: number, enhanced: string, text: string, delayMs?: number): Refusal {
  if (code < 500 || code > 599) throw new RangeError(`reject needs a 5xx code, got ${code}`);
  return { kind: 'reject', code, enhanced, text, delayMs };
}

export function defer(code: number, enhanced: string, text: string, delayMs?: number): Refusal {
  if (code < 400 || code > 499) throw new RangeError(`defer needs a 4xx code, got ${code}`);
  return { kind: 'defer', code, enhanced, text, delayMs };
}

export function isRefusal(v: Verdict): v is Refusal {
  return v.kind === 'reject' || v.kind === 'defer';
}

/** An error smtp-server turns into the reply: `responseCode` is the code, the message starts with the enhanced code. */
export class SmtpReplyError extends Error {
  readonly responseCode: number;
  constructor(readonly refusal: Refusal) {
    super(`${refusal.enhanced} ${refusal.text}`);
    this.name = 'SmtpReplyError';
    this.responseCode = refusal.code;
  }
}

/** The reply line as the client sees it, for logs. */
export function replyText(r: Refusal): string {
  return `${r.code} ${r.enhanced} ${r.text}`;
}
