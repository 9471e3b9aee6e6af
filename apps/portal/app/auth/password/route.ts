/**
 * A signed-in mailbox user changes their password. The API ends every session of the account (this one's token too,
 * and IMAP/POP3 sessions), so the portal signs this browser in again with the new password: the other sessions stay
 * signed out. JSON from the portal's own pages only; the API's refusal (wrong current password, too weak) is passed on.
 */
import { NextRequest, NextResponse } from 'next/server';
import type { TokenResponse } from '../../../lib/auth-types';
import { isSameOrigin } from '../../../lib/origin';
import { portalConfig } from '../../../lib/portal-config';
import { cookieOptions, seal, Session, SESSION_COOKIE, unseal } from '../../../lib/session';

export async function POST(req: NextRequest): Promise<NextResponse> {
  const refuse = (status: number, message: string) => NextResponse.json({ statusCode: status, message }, { status, headers: { 'cache-control': 'no-store' } });
  if (!isSameOrigin(req)) return refuse(403, 'cross-site request refused');
  if (!(req.headers.get('content-type') ?? '').startsWith('application/json')) return refuse(403, 'changes are sent as application/json');
  const session = unseal<Session>(req.cookies.get(SESSION_COOKIE)?.value);
  if (!session) return refuse(401, 'the session has ended; sign in again');
  if (session.actor.kind !== 'mailbox') return refuse(403, 'only mailbox users change their password here');
  const body = (await req.json().catch(() => null)) as { currentPassword?: unknown; newPassword?: unknown } | null;
  const currentPassword = typeof body?.currentPassword === 'string' ? body.currentPassword : '';
  const newPassword = typeof body?.newPassword === 'string' ? body.newPassword : '';
  if (!currentPassword || !newPassword) return refuse(400, 'give the current and the new password');

  const api = portalConfig().PORTAL_API_URL.replace(/\/$/, '');
  const forwarded = { 'x-forwarded-for': req.headers.get('x-forwarded-for') ?? '' };
  const changed = await fetch(`${api}/api/auth/password`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json', ...forwarded },
    body: JSON.stringify({ currentPassword, newPassword }),
    cache: 'no-store',
  }).catch(() => null);
  if (!changed) return refuse(503, 'the server cannot be reached; try again in a moment');
  if (!changed.ok) {
    const answer = (await changed.json().catch(() => ({}))) as { message?: unknown };
    return refuse(changed.status, typeof answer.message === 'string' ? answer.message : `the server answered ${changed.status}`);
  }
  const login = await fetch(`${api}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...forwarded },
    body: JSON.stringify({ username: session.actor.name, password: newPassword }),
    cache: 'no-store',
  }).catch(() => null);
  const out = NextResponse.json({ changed: true, signedIn: !!login?.ok }, { headers: { 'cache-control': 'no-store' } });
  if (login?.ok) {
    const tokens = (await login.json()) as TokenResponse;
    const now = Date.now();
    const renewed: Session = { ...session, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, accessExpiresAt: now + tokens.expiresIn * 1000, actor: tokens.actor, lastSeenAt: now };
    out.cookies.set(SESSION_COOKIE, seal(renewed), cookieOptions());
  } else {
    out.cookies.delete(SESSION_COOKIE);
  }
  return out;
}
