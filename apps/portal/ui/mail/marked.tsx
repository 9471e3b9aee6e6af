'use client';
/** A search snippet with its matches marked, drawn as text (the snippet's HTML is never put into the page). */
import { markedPieces } from '../../lib/mail/search-criteria';

export function Marked({ html }: { html: string }) {
  return (
    <>
      {markedPieces(html).map((p, i) => (p.marked ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </>
  );
}
