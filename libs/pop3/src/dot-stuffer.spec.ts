import { describe, expect, it } from 'vitest';
import { DotStuffer, stuffMessage } from './dot-stuffer';

describe('DotStuffer', () => {
  it('doubles leading dots, keeps everything else and terminates', () => {
    const out = stuffMessage(Buffer.from('A: b\r\n\r\n.x\r\n..\r\n.\r\nend\r\n'));
    expect(out.toString()).toBe('A: b\r\n\r\n..x\r\n...\r\n..\r\nend\r\n.\r\n');
  });

  it('finds line starts and the header end across chunk boundaries', () => {
    const s = new DotStuffer(1);
    const chunks = ['Subject: x\r', '\n\r', '\n', '.one\r\n', 'two\r\n'].map((c) => Buffer.from(c));
    const out: Buffer[] = [];
    for (const c of chunks) {
      if (s.done) break;
      out.push(...s.push(c));
    }
    out.push(...s.end());
    expect(Buffer.concat(out).toString()).toBe('Subject: x\r\n\r\n..one\r\n.\r\n');
  });

  it('serves bare-LF messages unchanged apart from stuffing, and a header-only message whole for TOP', () => {
    expect(stuffMessage(Buffer.from('a: b\n\n.c\n'), 0).toString()).toBe('a: b\n\n.\r\n');
    expect(stuffMessage(Buffer.from('a: b\n\n.c\n')).toString()).toBe('a: b\n\n..c\n.\r\n');
    expect(stuffMessage(Buffer.from('a: b\r\nc: d'), 5).toString()).toBe('a: b\r\nc: d\r\n.\r\n');
    expect(stuffMessage(Buffer.alloc(0)).toString()).toBe('.\r\n');
  });
});
