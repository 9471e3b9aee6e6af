/**
 * The webmail's fielded search: what the advanced panel holds, as a JMAP Email/query filter (RFC 8621 §4.4.1, plus
 * the server's attachmentName). Days are whole days in the reader's time zone.
 */
export interface SearchCriteria {
  /** The one box: sender, recipients, subject and text. */
  text: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  attachmentName: string;
  /** yyyy-mm-dd, inclusive; '' for no bound. */
  after: string;
  before: string;
  hasAttachment: boolean;
  /** A folder id, 'current' or 'all'. */
  folder: string;
}

export const EMPTY_CRITERIA: SearchCriteria = { text: '', from: '', to: '', subject: '', body: '', attachmentName: '', after: '', before: '', hasAttachment: false, folder: 'current' };

export function isEmptySearch(c: SearchCriteria): boolean {
  return !c.text.trim() && !c.from.trim() && !c.to.trim() && !c.subject.trim() && !c.body.trim() && !c.attachmentName.trim() && !c.after && !c.before && !c.hasAttachment;
}

/** The conditions of the criteria (the folder is the caller's, who knows the current one). `dayStart` maps a day to a UTCDate. */
export function searchConditions(c: SearchCriteria, dayStart: (day: string) => string, nextDayStart: (day: string) => string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const key of ['text', 'from', 'to', 'subject', 'body', 'attachmentName'] as const) {
    const value = c[key].trim();
    if (value) out.push({ [key]: value });
  }
  if (c.after) out.push({ after: dayStart(c.after) });
  if (c.before) out.push({ before: nextDayStart(c.before) });
  if (c.hasAttachment) out.push({ hasAttachment: true });
  return out;
}

/** What the results heading says was looked for. */
export function searchSummary(c: SearchCriteria): string {
  return [c.text, c.from, c.to, c.subject, c.body, c.attachmentName].map((s) => s.trim()).filter(Boolean).join(' · ');
}

/** A SearchSnippet's HTML (only `<mark>` tags, the rest escaped by the server) as plain pieces, marked or not: never put into the page as HTML. */
export function markedPieces(html: string): { text: string; marked: boolean }[] {
  const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return html
    .split(/(<mark>[\s\S]*?<\/mark>)/)
    .filter(Boolean)
    .map((p) => (p.startsWith('<mark>') ? { text: unescape(p.slice(6, -7)), marked: true } : { text: unescape(p.replace(/<\/?mark>/g, '')), marked: false }));
}
