/** Sign out: the API's refresh token is revoked (password sessions) and the session cookie cleared. */
import { NextRequest, NextResponse } from 'next/server';
import { isSameOrigin, portalHref } from '../../../lib/origin';
import { portalConfig } from '../../../lib/portal-config';
import { cookieOptions, Session, SESSION_COOKIE, unseal } from '../../../lib/session';

export async function POST(req: NextRequest): Promise<NextResponse> {
  if (!isSameOrigin(req)) return NextResponse.json({ statusCode: 403, error: 'forbidden', message: 'cross-site request refused' }, { status: 403 });
  const session = unseal<Session>(req.cookies.get(SESSION_COOKIE)?.value);
  if (session?.via === 'local' && session.refreshToken) {
    await fetch(`${portalConfig().PORTAL_API_URL.replace(/\/$/, '')}/api/auth/logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    }).catch(() => undefined);
  }
  const res = NextResponse.redirect(portalHref(req, '/sign-in?reason=signed_out'), 303);
  res.cookies.set(SESSION_COOKIE, '', cookieOptions(0));
  return res;
}
