/**
 * SearchSnippet highlighting (RFC 8621 §5): the words an Email/query filter looked for, marked in the subject and in
 * an excerpt of the body as HTML (`<mark>`, everything else escaped). Matching is case-insensitive and by substring,
 * as the full-text index matches word pieces; a run of Chinese (or other CJK) characters is looked for whole.
 */
import type { Filter } from './email-filter';

/** The excerpt's length in octets, markup not counted (the RFC's 255). */
const EXCERPT_OCTETS = 255;
/** Characters of context kept before the first match. */
const LEAD = 30;

/** The strings of text, subject and body conditions, outside NOT (a NOT's words are what the result lacks). */
export function snippetTerms(filter: Filter | null): { subject: string[]; body: string[] } {
  const out = { subject: new Set<string>(), body: new Set<string>() };
  const visit = (f: Filter) => {
    if ('operator' in f) {
      if (f.operator !== 'NOT' && Array.isArray(f.conditions)) (f.conditions as Filter[]).forEach(visit);
      return;
    }
    for (const [key, value] of Object.entries(f)) {
      if (typeof value !== 'string') continue;
      const words = wordsOf(value);
      if (key === 'text' || key === 'subject') words.forEach((w) => out.subject.add(w));
      if (key === 'text' || key === 'body') words.forEach((w) => out.body.add(w));
    }
  };
  if (filter) visit(filter);
  return { subject: [...out.subject], body: [...out.body] };
}

/** Words of a query: split at spaces and punctuation, longest first so a longer match wins where two overlap. */
function wordsOf(query: string): string[] {
  return query.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0).sort((a, b) => b.length - a.length);
}

function matcher(terms: string[]): RegExp | null {
  if (terms.length === 0) return null;
  return new RegExp(terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'giu');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The text with every match marked, or null when nothing matches. */
export function highlight(text: string, terms: string[]): string | null {
  const re = matcher(terms);
  if (!re) return null;
  let out = '';
  let last = 0;
  let found = false;
  for (const m of text.matchAll(re)) {
    found = true;
    out += `${escapeHtml(text.slice(last, m.index))}<mark>${escapeHtml(m[0])}</mark>`;
    last = m.index! + m[0].length;
  }
  return found ? out + escapeHtml(text.slice(last)) : null;
}

/** An excerpt of the body around its first match, marked; null when nothing matches. */
export function excerpt(text: string, terms: string[]): string | null {
  const re = matcher(terms);
  const first = re ? re.exec(text) : null;
  if (!first) return null;
  const chars = [...text.slice(0, first.index)];
  let start = first.index;
  // Step back LEAD characters (code points), then to a word start when one is near.
  const back = chars.slice(Math.max(0, chars.length - LEAD)).join('');
  start -= back.length;
  const space = text.slice(start, first.index).indexOf(' ');
  if (start > 0 && space >= 0 && space < first.index - start - 1) start += space + 1;
  let piece = '';
  let octets = 0;
  for (const ch of text.slice(start)) {
    octets += Buffer.byteLength(ch);
    if (octets > EXCERPT_OCTETS) break;
    piece += ch;
  }
  return highlight(piece, terms);
}
