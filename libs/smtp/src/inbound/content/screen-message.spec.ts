import { describe, expect, it } from 'vitest';
import { DEFAULT_SMTP_SETTINGS, SmtpSettings } from '@dizi/contracts/mail-settings.contract';
import type { PolicyDeps } from '../pipeline';
import { newSession, type ListenerKind } from '../session';
import type { ContentScanner, ContentScanReport, ContentScanRequest, SpamFinding, VirusFinding } from './content-scanner';
import { spamHeaders } from './filter-headers';
import { scanPlan, screenMessage } from './screen-message';

const ON: Partial<SmtpSettings> = { antivirusEnabled: true, antispamEnabled: true };
const settings = (over: Partial<SmtpSettings> = {}): SmtpSettings => ({ ...DEFAULT_SMTP_SETTINGS, ...ON, ...over });
const deps = { hostname: 'mx.dizi.test' } as PolicyDeps;
const message = { hash: 'h', size: 10_000 };

/** A scanner that answers what the test says and remembers what it was asked. */
function scanner(virus: VirusFinding | null, spam: SpamFinding | null): ContentScanner & { asked: ContentScanRequest[] } {
  const asked: ContentScanRequest[] = [];
  return {
    asked,
    async scan(request): Promise<ContentScanReport> {
      asked.push(request);
      return { virus: request.virus ? virus : null, spam: request.spam ? spam : null, elapsedMs: 12 };
    },
  };
}

const screen = (s: ContentScanner, over: Partial<SmtpSettings> = {}, listener: ListenerKind = 'mx') =>
  screenMessage({ scanner: s, session: newSession('s1', listener, '192.0.2.1', '[192.0.2.1]', 0), settings: settings(over), deps, message });

const clean: VirusFinding = { status: 'clean' };
const ham: SpamFinding = { status: 'scanned', score: 1.25, symbols: ['MISSING_DATE', 'NO_RELAYS'] };
const infected: VirusFinding = { status: 'infected', signature: 'Dizi.Test.EICAR.UNOFFICIAL' };
const score = (n: number): SpamFinding => ({ status: 'scanned', score: n, symbols: ['DIZI_TEST_SPAM'] });

describe('scanPlan', () => {
  it('asks nothing while both scanners are off (the default)', () => {
    expect(scanPlan(DEFAULT_SMTP_SETTINGS, false, message)).toBeNull();
  });

  it('scans MX mail with both, and signed-in submissions for viruses only unless told otherwise', () => {
    expect(scanPlan(settings(), false, message)).toEqual({
      message, virus: { address: '127.0.0.1:3310', maxBytes: 25 * 1024 * 1024 }, spam: { address: '127.0.0.1:783', maxBytes: 1024 * 1024, engine: 'spamassassin' },
      timeoutMs: 30_000,
    });
    expect(scanPlan(settings({ antispamScanner: 'rspamd' }), false, message))
      .toMatchObject({ spam: { address: '127.0.0.1:11333', maxBytes: 1024 * 1024, engine: 'rspamd' } });
    expect(scanPlan(settings(), true, message)).toMatchObject({ virus: { address: '127.0.0.1:3310' }, spam: null });
    expect(scanPlan(settings({ antispamOnSubmission: true, antivirusOnSubmission: false }), true, message)).toMatchObject({ virus: null, spam: { address: '127.0.0.1:783' } });
    expect(scanPlan(settings({ antispamEnabled: false }), true, message)).toMatchObject({ virus: {}, spam: null });
  });
});

describe('screenMessage', () => {
  it('passes clean mail with X-Virus-* and X-Spam-* headers and no folder', async () => {
    const out = await screen(scanner(clean, ham));
    expect(out).toEqual({
      kind: 'deliver',
      marks: {
        headers: 'X-Virus-Scanned: ClamAV at mx.dizi.test\r\nX-Virus-Status: Clean\r\n'
          + 'X-Spam-Score: 1.3\r\nX-Spam-Level: *\r\nX-Spam-Status: No, score=1.3 required=5.0 tests=MISSING_DATE,NO_RELAYS\r\n',
        folder: null,
        spamScore: 1.25,
        quarantine: null,
      },
      log: 'virus: clean; spam: score 1.3 (MISSING_DATE,NO_RELAYS) (scanned in 12 ms)',
    });
  });

  it('does nothing when no scanner applies', async () => {
    const s = scanner(clean, ham);
    expect(await screen(s, { antivirusEnabled: false, antispamEnabled: false })).toBeNull();
    expect(s.asked).toEqual([]);
  });

  it('refuses infected mail with 554 5.7.1 naming the signature, whatever the spam score', async () => {
    const out = await screen(scanner(infected, score(0)));
    expect(out).toMatchObject({ kind: 'refuse', refusal: { kind: 'reject', code: 554, enhanced: '5.7.1', text: 'Message rejected: virus found (Dizi.Test.EICAR.UNOFFICIAL)' } });
    expect(out!.log).toContain('virus: Dizi.Test.EICAR.UNOFFICIAL found, reject');
  });

  it('files infected mail in Virus, or drops it, as the action says', async () => {
    expect(await screen(scanner(infected, score(30)), { antivirusAction: 'virus_folder' })).toMatchObject({
      kind: 'deliver',
      marks: { folder: 'virus', headers: 'X-Virus-Scanned: ClamAV at mx.dizi.test\r\nX-Virus-Status: Infected (Dizi.Test.EICAR.UNOFFICIAL)\r\n' },
    });
    expect(await screen(scanner(infected, ham), { antivirusAction: 'discard' })).toMatchObject({ kind: 'discard', signature: 'Dizi.Test.EICAR.UNOFFICIAL' });
  });

  it('keeps a hostile signature name from breaking the header', async () => {
    const out = await screen(scanner({ status: 'infected', signature: 'Evil\r\nX-Spam-Flag: NO' }, ham), { antivirusAction: 'virus_folder' });
    expect(out).toMatchObject({ kind: 'deliver', marks: { headers: expect.stringContaining('X-Virus-Status: Infected (Evil X-Spam-Flag: NO)\r\n') } });
    expect((out as { marks: { headers: string } }).marks.headers.split('\r\n')).toHaveLength(3);
  });

  it('tags spam at or above the tag score, sends it to Junk from the Junk score, and refuses it at or above the reject score with 550 5.7.1', async () => {
    const ham49 = await screen(scanner(clean, score(4.9)));
    expect(ham49).toMatchObject({ kind: 'deliver', marks: { folder: null } });
    expect((ham49 as { marks: { headers: string } }).marks.headers).not.toContain('X-Spam-Flag');
    const tagged = await screen(scanner(clean, score(6.9)));
    expect(tagged).toMatchObject({ kind: 'deliver', marks: { folder: null, spamScore: 6.9 } });
    expect((tagged as { marks: { headers: string } }).marks.headers).toContain('X-Spam-Flag: YES\r\nX-Spam-Score: 6.9\r\n');
    const junk = await screen(scanner(clean, score(7)));
    expect(junk).toMatchObject({ kind: 'deliver', marks: { folder: 'junk', spamScore: 7 } });
    expect((junk as { marks: { headers: string } }).marks.headers).toContain('X-Spam-Flag: YES\r\nX-Spam-Score: 7.0\r\nX-Spam-Level: *******\r\nX-Spam-Status: Yes, score=7.0 required=5.0 tests=DIZI_TEST_SPAM\r\n');
    expect(await screen(scanner(clean, score(15)))).toMatchObject({ kind: 'refuse', refusal: { code: 550, enhanced: '5.7.1', text: 'Message rejected as spam' } });
    // From the quarantine score (the seed's "delete", 9) up to the reject score it is held, not filed.
    expect(await screen(scanner(clean, score(15)), { antispamRejectScore: 1000 }))
      .toMatchObject({ kind: 'deliver', marks: { folder: null, quarantine: { reason: 'spam', detail: 'score 15.0' } } });
    expect(await screen(scanner(clean, score(8.9)))).toMatchObject({ kind: 'deliver', marks: { folder: 'junk', quarantine: null } });
    expect(await screen(scanner(clean, score(15)), { antispamRejectScore: 1000, antispamQuarantineScore: 1000 })).toMatchObject({ kind: 'deliver', marks: { folder: 'junk' } });
  });

  it('adds the spam headers only from the header score up, except on flagged mail', async () => {
    const quiet = await screen(scanner(clean, ham), { antispamHeaderScore: 2 });
    expect((quiet as { marks: { headers: string } }).marks.headers).not.toContain('X-Spam');
    const flagged = await screen(scanner(clean, score(8)), { antispamHeaderScore: 10 });
    expect((flagged as { marks: { headers: string } }).marks.headers).toContain('X-Spam-Flag: YES');
  });

  it('defers with 451 4.7.1 when a scanner failed, by default', async () => {
    expect(await screen(scanner({ status: 'failed', error: 'clamd: connect ECONNREFUSED' }, ham))).toMatchObject({
      kind: 'refuse', refusal: { kind: 'defer', code: 451, enhanced: '4.7.1' }, log: expect.stringContaining('virus: scanner failed, clamd: connect ECONNREFUSED'),
    });
    expect(await screen(scanner(clean, { status: 'failed', error: 'spamd did not answer within 30000 ms' }))).toMatchObject({
      kind: 'refuse', refusal: { kind: 'defer', code: 451, enhanced: '4.7.1' },
    });
  });

  it('accepts with a header saying so when the settings accept unscanned mail', async () => {
    const out = await screen(scanner({ status: 'failed', error: 'down' }, { status: 'failed', error: 'down' }), { scannerFailureAction: 'accept' });
    expect(out).toMatchObject({
      kind: 'deliver',
      marks: {
        folder: null,
        headers: 'X-Virus-Scanned: ClamAV at mx.dizi.test\r\nX-Virus-Status: Not scanned (scanner unavailable)\r\n'
          + 'X-Spam-Status: Unknown, not scanned (scanner unavailable)\r\n',
      },
    });
  });

  it('says when a message was too big to scan', async () => {
    const out = await screen(scanner({ status: 'skipped', reason: 'larger than 1024 bytes' }, { status: 'skipped', reason: 'larger than 1024 bytes' }));
    expect(out).toMatchObject({ kind: 'deliver', marks: { headers: expect.stringContaining('X-Virus-Status: Not scanned (larger than 1024 bytes)\r\nX-Spam-Status: Unknown, not scanned (larger than 1024 bytes)\r\n') } });
  });
});

describe('spamHeaders', () => {
  it('folds a long list of tests after a comma, within 78 columns', () => {
    const symbols = Array.from({ length: 12 }, (_, i) => `SOME_LONGER_RULE_NAME_${i}`);
    const [status] = spamHeaders({ score: -0.5, required: 5, flagged: false, symbols }).slice(-1);
    const lines = status.replace(/\r\n$/, '').split('\r\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(78);
    for (const l of lines.slice(1)) expect(l.startsWith('\t')).toBe(true);
    expect(lines.join('').replace(/\t/g, '')).toBe(`X-Spam-Status: No, score=-0.5 required=5.0 tests=${symbols.join(',')}`);
    expect(spamHeaders({ score: -0.5, required: 5, flagged: false, symbols })[1]).toBe('X-Spam-Level: \r\n');
  });
});
