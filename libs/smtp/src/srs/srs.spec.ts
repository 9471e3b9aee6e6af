import { describe, expect, it } from 'vitest';
import { isSrsAddress, Srs } from './srs';

/** 2026-11-27 08:12:02 UTC: the moment the known answers below were taken from postsrsd 1.10 (Debian 12). */
const AT = 1795822322000;
const DAY = 86_400_000;
const srsAt = (now: number, secrets = ['test-secret-1']) => new Srs({ secrets, now: () => now });

describe('SRS', () => {
  it('rewrites like postsrsd (libsrs2): SRS0 for a plain sender, SRS1 for an SRS0 or SRS1 one', () => {
    // Known answers: `postsrsd -s <file with "test-secret-1"> -d fwd.test`, forward table, same day.
    const srs = srsAt(AT);
    expect(srs.forward('alice@example.org', 'fwd.test')).toBe('SRS0=pN60=JQ=example.org=alice@fwd.test');
    expect(srs.forward('Bob.Smith@Example.ORG', 'fwd.test')).toBe('SRS0=LgGc=JQ=Example.ORG=Bob.Smith@fwd.test');
    expect(srs.forward('SRS0=AbCd=XY=orig.test=u@hop1.test', 'fwd.test')).toBe('SRS1=235V=hop1.test==AbCd=XY=orig.test=u@fwd.test');
    expect(srs.forward('srs1=ZZZZ=hop1.test==AbCd=XY=orig.test=u@hop2.test', 'fwd.test')).toBe('SRS1=235V=hop1.test==AbCd=XY=orig.test=u@fwd.test');
  });

  it('keeps the null sender null and leaves senders of the forwarding domain alone', () => {
    const srs = srsAt(AT);
    expect(srs.forward('', 'fwd.test')).toBe('');
    expect(srs.forward('someone@FWD.test', 'fwd.test')).toBe('someone@FWD.test');
  });

  it('reverses its own addresses, with the hash compared case-insensitively', () => {
    const srs = srsAt(AT);
    const forwarded = srs.forward('alice@example.org', 'fwd.test');
    expect(srs.reverse(forwarded)).toEqual({ ok: true, address: 'alice@example.org' });
    // Addresses are lower-cased on the way back (our own stored form does it too).
    expect(srs.reverse(forwarded.toLowerCase())).toEqual({ ok: true, address: 'alice@example.org' });
    expect(srs.reverse('SRS1=235V=hop1.test==AbCd=XY=orig.test=u@fwd.test')).toEqual({ ok: true, address: 'SRS0=AbCd=XY=orig.test=u@hop1.test' });
    expect(srs.reverse('srs1=235v=hop1.test==abcd=xy=orig.test=u@fwd.test')).toEqual({ ok: true, address: 'SRS0=abcd=xy=orig.test=u@hop1.test' });
    // A local part with '=' in it survives the round trip.
    expect(srs.reverse(srs.forward('a=b@example.org', 'fwd.test'))).toEqual({ ok: true, address: 'a=b@example.org' });
  });

  it('refuses forged addresses: another hash, another secret, altered parts', () => {
    const srs = srsAt(AT);
    expect(srs.reverse('SRS0=pN61=JQ=example.org=alice@fwd.test')).toEqual({ ok: false, reason: 'hash' });
    expect(srs.reverse('SRS0=pN60=JQ=example.org=mallory@fwd.test')).toEqual({ ok: false, reason: 'hash' });
    expect(srs.reverse('SRS0=pN60=JR=example.org=alice@fwd.test')).toEqual({ ok: false, reason: 'hash' });
    expect(srsAt(AT, ['other-secret']).reverse('SRS0=pN60=JQ=example.org=alice@fwd.test')).toEqual({ ok: false, reason: 'hash' });
    expect(srs.reverse('SRS1=235W=hop1.test==AbCd=XY=orig.test=u@fwd.test')).toEqual({ ok: false, reason: 'hash' });
    expect(srs.reverse('SRS0=pN60@fwd.test')).toEqual({ ok: false, reason: 'syntax' });
    expect(srs.reverse('alice@fwd.test')).toEqual({ ok: false, reason: 'syntax' });
  });

  it('accepts an SRS0 address for 21 days and no longer (postsrsd agrees on both)', () => {
    // Made 21 and 22 days before AT; postsrsd's reverse table answered 200 and "Time stamp out of date".
    expect(srsAt(AT).reverse('SRS0=/ecv=I3=old.test=carol@fwd.test')).toEqual({ ok: true, address: 'carol@old.test' });
    expect(srsAt(AT).reverse('SRS0=SiCJ=I2=old.test=carol@fwd.test')).toEqual({ ok: false, reason: 'expired' });
    const made = srsAt(AT).forward('dave@example.org', 'fwd.test');
    expect(srsAt(AT + 21 * DAY).reverse(made)).toEqual({ ok: true, address: 'dave@example.org' });
    expect(srsAt(AT + 22 * DAY).reverse(made)).toEqual({ ok: false, reason: 'expired' });
    expect(new Srs({ secrets: ['test-secret-1'], now: () => AT + 3 * DAY, maxAgeDays: 2 }).reverse(made)).toEqual({ ok: false, reason: 'expired' });
  });

  it('signs with the first secret and accepts every listed one (rotation)', () => {
    const old = srsAt(AT, ['old-secret']).forward('erin@example.org', 'fwd.test');
    const rotated = srsAt(AT, ['new-secret', 'old-secret']);
    expect(rotated.reverse(old)).toEqual({ ok: true, address: 'erin@example.org' });
    expect(srsAt(AT, ['new-secret']).reverse(old)).toEqual({ ok: false, reason: 'hash' });
    expect(rotated.forward('erin@example.org', 'fwd.test')).toBe(srsAt(AT, ['new-secret']).forward('erin@example.org', 'fwd.test'));
  });

  it('recognises SRS local parts with any of the three separators', () => {
    expect(isSrsAddress('SRS0=a=b=c=d@x.test')).toBe(true);
    expect(isSrsAddress('srs0+a=b=c=d@x.test')).toBe(true);
    expect(isSrsAddress('SRS1-a=b==c@x.test')).toBe(true);
    expect(isSrsAddress('srs@x.test')).toBe(false);
    expect(isSrsAddress('bounce@x.test')).toBe(false);
    expect(() => new Srs({ secrets: [''] })).toThrow(/secret/);
  });
});
