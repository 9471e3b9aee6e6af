/** Password sign-in (local operator, or a mailbox: admins land in their console, users in the webmail): a plain form POST, so it works before any script has loaded. */
import { NextRequest, NextResponse } from 'next/server';
import type { TokenResponse } from '../../../lib/auth-types';
import { isSameOrigin, portalHref } from '../../../lib/origin';
import { portalConfig } from '../../../lib/portal-config';
import { safeNext } from '../../../lib/safe-next';
import { cookieOptions, homeOf, seal, Session, SESSION_COOKIE } from '../../../lib/session';

export async function POST(req: NextRequest): Promise<NextResponse> {
  if (!isSameOrigin(req)) return NextResponse.json({ statusCode: 403, error: 'forbidden', message: 'cross-site request refused' }, { status: 403 });
  const form = await req.formData();
  const as = form.get('as') === 'operator' ? 'operator' : 'mailbox';
  const username = String(form.get('username') ?? '');
  const password = String(form.get('password') ?? '');
  const next = safeNext(String(form.get('next') ?? ''));
  const back = (error: string) => {
    const to = portalHref(req, '/sign-in');
    to.searchParams.set('error', error);
    to.searchParams.set('as', as);
    if (next) to.searchParams.set('next', next);
    return NextResponse.redirect(to, 303);
  };
  if (!username || !password) return back('missing');

  const api = portalConfig().PORTAL_API_URL.replace(/\/$/, '');
  const res = await fetch(`${api}/api/auth/${as === 'operator' ? 'operator/login' : 'login'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': req.headers.get('x-forwarded-for') ?? '' },
    body: JSON.stringify({ username, password }),
    cache: 'no-store',
  }).catch(() => null);
  if (!res) return back('unavailable');
  if (res.status === 429) return back('throttled');
  if (!res.ok) return back('credentials');
  const tokens = (await res.json()) as TokenResponse;
  const now = Date.now();
  const session: Session = { via: 'local', accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, accessExpiresAt: now + tokens.expiresIn * 1000, actor: tokens.actor, signedInAt: now, lastSeenAt: now };
  const out = NextResponse.redirect(portalHref(req, next ?? homeOf(tokens.actor)), 303);
  out.cookies.set(SESSION_COOKIE, seal(session), cookieOptions());
  return out;
}
