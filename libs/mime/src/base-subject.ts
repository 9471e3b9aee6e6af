// RFC 5256 §2.1 base subject, the key of SORT SUBJECT and THREAD ORDEREDSUBJECT.

// RFC 5256 names re/fw/fwd; 回复/答复/转发 are what Chinese Outlook and Foxmail write instead.
const LEADER = /^(?:\[[^[\]]*\]\s*)*(?:re|fwd?|回复|答复|转发)\s*(?:\[[^[\]]*\])?\s*[:：]\s*/i;
const BLOB = /^\[[^[\]]*\]\s*/;
const TRAILER = /\s*\(fwd\)\s*$/i;

/** The base subject of a decoded subject: reply/forward markers and list tags removed, whitespace collapsed. */
export function baseSubject(subject: string): string {
  let s = subject.replace(/\s+/g, ' ').trim();
  for (;;) {
    const before = s;
    // (2) trailing "(fwd)"
    while (TRAILER.test(s)) s = s.replace(TRAILER, '');
    // (3)-(5) leading leaders and blobs, as long as something remains after a blob
    for (;;) {
      const inner = s;
      s = s.replace(LEADER, '');
      const withoutBlob = s.replace(BLOB, '');
      if (withoutBlob !== s && withoutBlob !== '') s = withoutBlob;
      if (s === inner) break;
    }
    // (6) "[fwd: ... ]" wrapper
    const fwd = /^\[fwd:\s*(.*)\]$/i.exec(s);
    if (fwd) s = fwd[1].trim();
    if (s === before) return s;
  }
}
