/** The session cookie's seal, its idle and absolute timeouts, and the post-sign-in redirect guard. */
import { beforeAll, describe, expect, it } from 'vitest';
import { pickLocale } from '../i18n/request';
import { safeNext } from './safe-next';

describe('console session', () => {
  let session: typeof import('./session');
  beforeAll(async () => {
    process.env.PORTAL_SESSION_SECRET = Buffer.alloc(32, 1).toString('base64');
    process.env.PORTAL_IDLE_TIMEOUT_MINUTES = '30';
    process.env.PORTAL_SESSION_MAX_HOURS = '12';
    session = await import('./session');
  });

  const base = { via: 'local' as const, accessToken: 'a', refreshToken: 'r', accessExpiresAt: 0, actor: { role: 'operator' as const, kind: 'operator-account' as const, id: 'x', name: 'op' } };

  it('seals so that the browser can neither read nor change it', () => {
    const sealed = session.seal({ ...base, signedInAt: 1, lastSeenAt: 1 });
    expect(sealed).not.toContain('operator');
    expect(session.unseal(sealed)).toMatchObject({ accessToken: 'a', actor: { name: 'op' } });
    const raw = Buffer.from(sealed, 'base64url');
    raw[raw.length - 1] ^= 1;
    expect(session.unseal(raw.toString('base64url'))).toBeNull();
    expect(session.unseal('garbage')).toBeNull();
    expect(session.unseal(undefined)).toBeNull();
  });

  it('ends after 30 idle minutes and 12 hours in all', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    const s = { ...base, signedInAt: now - 3_600_000, lastSeenAt: now - 29 * 60_000 };
    expect(session.sessionExpiry(s, now)).toBeNull();
    expect(session.sessionExpiry({ ...s, lastSeenAt: now - 31 * 60_000 }, now)).toBe('idle');
    expect(session.sessionExpiry({ ...s, signedInAt: now - 13 * 3_600_000, lastSeenAt: now }, now)).toBe('expired');
  });

  it('sends each role home: operators and admins to their consoles, mailbox users to the webmail', () => {
    expect(session.homeOf({ ...base.actor })).toBe('/ops');
    expect(session.homeOf({ ...base.actor, role: 'domain_admin' })).toBe('/admin');
    expect(session.homeOf({ ...base.actor, role: 'user' })).toBe('/mail');
    expect(session.isConsoleRole('user')).toBe(false);
  });
});

describe('redirect after sign-in', () => {
  it('goes only to paths of the portal', () => {
    expect(safeNext('/ops/tenants?q=a')).toBe('/ops/tenants?q=a');
    for (const bad of ['https://evil.test', '//evil.test', '/\\evil.test', 'ops', '/auth/sign-out', '/bff/api/x', '', null]) expect(safeNext(bad)).toBeNull();
  });
});

describe('language', () => {
  it('follows the choice, then the browser, then Simplified Chinese', () => {
    expect(pickLocale('en', 'zh-CN,zh')).toBe('en');
    expect(pickLocale(undefined, 'en-US,en;q=0.9')).toBe('en');
    expect(pickLocale(undefined, 'zh-TW,en;q=0.5')).toBe('zh-CN');
    expect(pickLocale(undefined, 'fr-FR')).toBe('zh-CN');
    expect(pickLocale('xx', null)).toBe('zh-CN');
  });
});
