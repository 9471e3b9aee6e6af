/**
 * The browser's only way to the API: /bff/api/... is relayed with the session's token, which never
 * reaches page scripts. Changes must come from the portal's own pages (Origin) as JSON (no HTML form can
 * send that cross-site); the sign-in endpoints are not relayed.
 */
import { NextRequest, NextResponse } from 'next/server';
import { isSameOrigin } from '../../../lib/origin';
import { portalConfig } from '../../../lib/portal-config';
import { Session, SESSION_COOKIE, unseal } from '../../../lib/session';

/** Largest JSON body relayed (bulk requests list at most 1,000 ids). */
const MAX_BODY_BYTES = 1_000_000;
/** Largest CSV import relayed (100,000 mailboxes of ~100 bytes); the API has its own, larger limit. */
const MAX_IMPORT_BYTES = 16_000_000;

/** The mailbox import is the one change sent as text/csv; still only from the portal's own pages (Origin). */
const isImport = (path: string[]) => path.length === 5 && path[1] === 'domains' && path[3] === 'mailboxes' && path[4] === 'import';

async function relay(req: NextRequest, ctx: { params: Promise<{ path: string[] }> }): Promise<NextResponse> {
  const deny = (status: number, message: string) => NextResponse.json({ statusCode: status, error: status === 401 ? 'unauthorized' : 'forbidden', message }, { status });
  const { path } = await ctx.params;
  if (path[0] !== 'api' || path[1] === 'auth' || path.some((p) => p === '..' || p === '.')) return deny(403, 'not relayed');
  const mutating = req.method !== 'GET' && req.method !== 'HEAD';
  if (mutating && !isSameOrigin(req)) return deny(403, 'cross-site request refused');
  const type = req.headers.get('content-type') ?? '';
  const csv = mutating && req.method === 'POST' && isImport(path) && type.startsWith('text/csv');
  if (mutating && !csv && req.headers.get('content-length') !== '0' && !type.startsWith('application/json')) {
    return deny(403, 'changes are sent as application/json');
  }
  const session = unseal<Session>(req.cookies.get(SESSION_COOKIE)?.value);
  if (!session) return deny(401, 'the session has ended; sign in again');
  const body = mutating ? await req.text() : undefined;
  if (body && body.length > (csv ? MAX_IMPORT_BYTES : MAX_BODY_BYTES)) return deny(403, 'request too large');

  const target = `${portalConfig().PORTAL_API_URL.replace(/\/$/, '')}/${path.map(encodeURIComponent).join('/')}${req.nextUrl.search}`;
  const res = await fetch(target, {
    method: req.method,
    headers: { authorization: `Bearer ${session.accessToken}`, ...(body ? { 'content-type': csv ? 'text/csv; charset=utf-8' : 'application/json' } : {}) },
    body: body || undefined,
    cache: 'no-store',
  });
  return new NextResponse(res.status === 204 ? null : await res.arrayBuffer(), {
    status: res.status,
    headers: { 'content-type': res.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' },
  });
}

export { relay as GET, relay as POST, relay as PATCH, relay as DELETE, relay as PUT };
