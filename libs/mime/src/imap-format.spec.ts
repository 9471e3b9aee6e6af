import { describe, expect, it } from 'vitest';
import { formatBodyStructure, formatEnvelope, imapNString, imapStringForHumans } from './imap-format';
import type { Envelope, SinglePartStructure } from './message-summary';

describe('imapNString', () => {
  it('prints NIL, quoted strings with up to four escapes, and literals otherwise', () => {
    expect(imapNString(null)).toBe('NIL');
    expect(imapNString('')).toBe('""');
    expect(imapNString('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    expect(imapNString('"""""')).toBe('{5}\r\n"""""');
    expect(imapNString('two\r\nlines')).toBe('{10}\r\ntwo\r\nlines');
    // byte strings: "ü" in UTF-8 is two octets, written as two latin1 chars
    expect(imapNString(Buffer.from('Grüße').toString('latin1'))).toBe('{7}\r\nGr\u00c3\u00bc\u00c3\u009fe');
  });
});

describe('imapStringForHumans', () => {
  it('quotes clean text, collapses folding into a literal and keeps empty strings', () => {
    expect(imapStringForHumans('Hello world')).toBe('"Hello world"');
    expect(imapStringForHumans('Hello\r\n world')).toBe('{11}\r\nHello world');
    expect(imapStringForHumans('  padded  ')).toBe('{6}\r\npadded');
    expect(imapStringForHumans('say "hi"')).toBe('{8}\r\nsay "hi"');
    expect(imapStringForHumans('   ')).toBe('""');
    expect(imapStringForHumans('')).toBe('""');
    expect(imapStringForHumans(null)).toBe('NIL');
  });
});

describe('formatEnvelope and formatBodyStructure', () => {
  it('print groups, NIL lists and a synthetic text part in RFC 3501 order', () => {
    const envelope: Envelope = {
      date: null,
      subject: null,
      from: [{ name: 'A', adl: '@relay.example', mailbox: 'a', host: 'example.org' }],
      sender: null,
      replyTo: null,
      to: [
        { name: null, adl: null, mailbox: 'team', host: null },
        { name: null, adl: null, mailbox: 'b', host: 'example.org' },
        { name: null, adl: null, mailbox: null, host: null },
      ],
      cc: [],
      bcc: null,
      inReplyTo: null,
      messageId: '<m@example.org>',
    };
    expect(formatEnvelope(envelope)).toBe(
      '(NIL NIL (("A" "@relay.example" "a" "example.org")) NIL NIL ((NIL NIL "team" NIL)(NIL NIL "b" "example.org")(NIL NIL NIL NIL)) NIL NIL NIL "<m@example.org>")',
    );
    const part: SinglePartStructure = {
      kind: 'single', type: 'image', subtype: 'png', params: [], id: null, description: null, encoding: 'base64', size: 10,
      lines: null, md5: null, message: null, disposition: { type: 'inline', params: [] }, language: ['en'], location: null,
    };
    expect(formatBodyStructure(part, false)).toBe('("image" "png" NIL NIL NIL "base64" 10)');
    expect(formatBodyStructure(part, true)).toBe('("image" "png" NIL NIL NIL "base64" 10 NIL ("inline" NIL) ("en") NIL)');
  });
});
