// Dovecot-style IMAP argument trees for the ImapTest runner: the same parser reads expected lines and server replies.

export type Arg =
  | { type: 'atom'; value: string }
  | { type: 'string'; value: string }
  | { type: 'literal'; value: string }
  | { type: 'nil' }
  | { type: 'list'; items: Arg[] };

/** Parses a complete response text (literals inline as `{n}\r\n<bytes>`). */
export function parseArgs(text: string): Arg[] {
  let pos = 0;
  const parseList = (inList: boolean): Arg[] => {
    const items: Arg[] = [];
    while (pos < text.length) {
      const c = text[pos];
      if (c === ' ' || c === '\r' || c === '\n') {
        pos++;
        continue;
      }
      if (c === '(') {
        pos++;
        items.push({ type: 'list', items: parseList(true) });
        continue;
      }
      if (c === ')') {
        pos++;
        if (inList) return items;
        items.push({ type: 'atom', value: ')' });
        continue;
      }
      if (c === '"') {
        let value = '';
        pos++;
        while (pos < text.length && text[pos] !== '"') {
          if (text[pos] === '\\' && pos + 1 < text.length) pos++;
          value += text[pos++];
        }
        pos++;
        items.push({ type: 'string', value });
        continue;
      }
      const lit = /^~?\{(\d+)\+?\}\r?\n/.exec(text.slice(pos, pos + 30));
      if ((c === '{' || c === '~') && lit) {
        pos += lit[0].length;
        const n = Number(lit[1]);
        items.push({ type: 'literal', value: text.slice(pos, pos + n) });
        pos += n;
        continue;
      }
      let end = pos;
      while (end < text.length) {
        const d = text[end];
        if (d === ' ' || d === '\r' || d === '\n') break;
        if (d === ')' && inList) break;
        end++;
      }
      const value = text.slice(pos, end);
      pos = end;
      items.push(value.toUpperCase() === 'NIL' ? { type: 'nil' } : { type: 'atom', value });
    }
    return items;
  };
  return parseList(false);
}

export function argsToString(args: Arg[]): string {
  return args
    .map((a) => {
      switch (a.type) {
        case 'atom': return a.value;
        case 'string': return JSON.stringify(a.value);
        case 'literal': return `{${a.value.length}}${a.value.length > 60 ? a.value.slice(0, 60) + '...' : a.value}`;
        case 'nil': return 'NIL';
        case 'list': return `(${argsToString(a.items)})`;
      }
    })
    .join(' ');
}

export function astring(a: Arg | undefined): string | null {
  if (!a) return null;
  if (a.type === 'atom' || a.type === 'string' || a.type === 'literal') return a.value;
  return null;
}
