/**
 * Runs before every page and relay request: ends sessions that were idle too long or are too old, renews
 * the access token shortly before it expires, and records the activity that keeps a session alive.
 */
import { NextRequest, NextResponse } from 'next/server';
import { portalHref } from './lib/origin';
import { cookieOptions, Session, SESSION_COOKIE, sessionExpiry, seal, unseal } from './lib/session';
import { refreshSession } from './lib/token-refresh';

/** Renew this long before the access token expires, so a request never reaches the API with a stale one. */
const RENEW_BEFORE_MS = 60_000;

function isPublic(path: string): boolean {
  return path === '/sign-in' || path.startsWith('/auth/');
}

function signedOut(req: NextRequest, reason: string | null): NextResponse {
  const path = req.nextUrl.pathname;
  let res: NextResponse;
  if (path.startsWith('/bff/')) {
    res = NextResponse.json({ statusCode: 401, error: 'unauthorized', message: 'the session has ended; sign in again' }, { status: 401 });
  } else if (isPublic(path)) {
    res = NextResponse.next();
  } else {
    const to = portalHref(req, '/sign-in');
    if (reason) to.searchParams.set('reason', reason);
    if (path !== '/') to.searchParams.set('next', path + req.nextUrl.search);
    res = NextResponse.redirect(to, 303);
  }
  if (req.cookies.has(SESSION_COOKIE)) res.cookies.set(SESSION_COOKIE, '', cookieOptions(0));
  return res;
}

export async function proxy(req: NextRequest): Promise<NextResponse> {
  const session = unseal<Session>(req.cookies.get(SESSION_COOKIE)?.value);
  if (!session) return signedOut(req, req.cookies.has(SESSION_COOKIE) ? 'expired' : null);
  const now = Date.now();
  const ended = sessionExpiry(session, now);
  if (ended) return signedOut(req, ended);

  let next: Session | null = { ...session, lastSeenAt: now };
  if (next.accessExpiresAt - now < RENEW_BEFORE_MS) next = await refreshSession(next, now);
  if (!next) return signedOut(req, 'expired');

  const sealed = seal(next);
  // The page rendered for this request reads the renewed tokens, not the ones the browser sent.
  req.cookies.set(SESSION_COOKIE, sealed);
  const res = NextResponse.next({ request: { headers: req.headers } });
  res.cookies.set(SESSION_COOKIE, sealed, cookieOptions());
  return res;
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico|fonts/).*)'],
};
