import { describe, expect, it } from 'vitest';
import { authservIdOf, HeaderFilter } from './header-filter';

const ID = 'mx.dizi.test';

/** The filter's output and findings for `message` fed in chunks of `size` bytes. */
function run(message: string, size = message.length, maxHeldBytes?: number) {
  const f = new HeaderFilter({ authservId: ID, maxHeldBytes });
  const bytes = Buffer.from(message, 'latin1');
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(f.feed(bytes.subarray(i, i + size)));
  out.push(f.end());
  return { text: Buffer.concat(out).toString('latin1'), from: f.from, removed: f.removed, fromTruncated: f.fromTruncated };
}

const MESSAGE = [
  'Received: from a by b; Mon, 7 Dec 2026 10:00:00 +0000',
  'Authentication-Results: mx.dizi.test; spf=pass smtp.mailfrom=ceo@bank.test',
  'Authentication-Results: (forged, folded)',
  '  MX.Dizi.Test 1;',
  '\tdkim=pass header.d=bank.test',
  'Authentication-Results: relay.other.test; dkim=pass header.d=list.test',
  'X-Spam-Flag: NO',
  'X-Spam-Status: No, score=-5.0',
  '\ttests=ALL_TRUSTED',
  'x-spam-score: -5',
  'From: "Ceo" <ceo@bank.test>,',
  ' other@bank.test',
  'Subject: X-Spam-Flag: YES',
  '',
  'X-Spam-Flag: NO',
  'Authentication-Results: mx.dizi.test; spf=pass',
  '',
].join('\r\n');

const EXPECTED = [
  'Received: from a by b; Mon, 7 Dec 2026 10:00:00 +0000',
  'Authentication-Results: relay.other.test; dkim=pass header.d=list.test',
  'From: "Ceo" <ceo@bank.test>,',
  ' other@bank.test',
  'Subject: X-Spam-Flag: YES',
  '',
  'X-Spam-Flag: NO',
  'Authentication-Results: mx.dizi.test; spf=pass',
  '',
].join('\r\n');

describe('HeaderFilter', () => {
  it('removes Authentication-Results claiming our id and every X-Spam-* field from the header only, however it is cut', () => {
    for (const size of [1, 2, 3, 7, 64, MESSAGE.length]) {
      const r = run(MESSAGE, size);
      expect(r.text, `chunks of ${size}`).toBe(EXPECTED);
      expect(r.from).toEqual(['"Ceo" <ceo@bank.test>, other@bank.test']);
      expect(r.removed).toEqual(['authentication-results', 'authentication-results', 'x-spam-flag', 'x-spam-status', 'x-spam-score']);
    }
  });

  it('removes an Authentication-Results too long to find its authserv-id in, and cuts a long From: value', () => {
    const long = `Authentication-Results: (${'x'.repeat(5000)}) mx.dizi.test; spf=pass\r\nFrom: <${'a'.repeat(5000)}@x.test>\r\n\r\nbody\r\n`;
    const r = run(long, 100, 1000);
    expect(r.text).toBe(`From: <${'a'.repeat(5000)}@x.test>\r\n\r\nbody\r\n`);
    expect(r.fromTruncated).toBe(true);
  });

  it('keeps a message that is all header, and lines that are no field', () => {
    expect(run('Subject: hi\r\nnot a field\r\nX-Spam-Flag: YES').text).toBe('Subject: hi\r\nnot a field\r\n');
  });

  it('reads the authserv-id past comments and quoted strings', () => {
    expect(authservIdOf(' (a (nested; comment)) mx.dizi.test 1; none', false)).toBe('mx.dizi.test');
    expect(authservIdOf(' "mx.dizi.test"; none', false)).toBe('mx.dizi.test');
    expect(authservIdOf(' mx.dizi.test', false)).toBeNull();
    expect(authservIdOf(' mx.dizi.test', true)).toBe('mx.dizi.test');
  });
});
