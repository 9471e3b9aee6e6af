/**
 * The webmail's way to JMAP: /bff/jmap/{session,api,upload/…,download/…,eventsource} relayed to the API's /jmap with
 * the session's token, which never reaches page scripts. Changes only from the portal's own pages (Origin); method
 * calls only as JSON. Downloads are always attachments or, for a few inert types, shown inline in a sandbox.
 */
import { NextRequest, NextResponse } from 'next/server';
import { isSameOrigin } from '../../../../lib/origin';
import { portalConfig } from '../../../../lib/portal-config';
import { Session, SESSION_COOKIE, unseal } from '../../../../lib/session';

/** Types a browser shows without running anything of the file's own (no HTML, no SVG). */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain']);

function deny(status: number, message: string): NextResponse {
  return NextResponse.json({ statusCode: status, error: status === 401 ? 'unauthorized' : status === 404 ? 'not found' : 'forbidden', message }, { status });
}

async function relay(req: NextRequest, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const { path } = await ctx.params;
  if (path.some((p) => p === '..' || p === '.' || p === '')) return deny(403, 'not relayed');
  const [first] = path;
  const allowed =
    (req.method === 'GET' && ((first === 'session' && path.length === 1) || (first === 'eventsource' && path.length === 1) || (first === 'download' && path.length === 4))) ||
    (req.method === 'POST' && ((first === 'api' && path.length === 1) || (first === 'upload' && path.length === 2)));
  if (!allowed) return deny(404, 'no such JMAP resource');
  if (req.method === 'POST') {
    if (!isSameOrigin(req)) return deny(403, 'cross-site request refused');
    if (first === 'api' && !(req.headers.get('content-type') ?? '').startsWith('application/json')) return deny(403, 'method calls are sent as application/json');
  }
  const session = unseal<Session>(req.cookies.get(SESSION_COOKIE)?.value);
  if (!session) return deny(401, 'the session has ended; sign in again');

  const target = `${portalConfig().PORTAL_API_URL.replace(/\/$/, '')}/jmap/${path.map(encodeURIComponent).join('/')}${req.nextUrl.search}`;
  const headers: Record<string, string> = { authorization: `Bearer ${session.accessToken}` };
  if (req.method === 'POST') {
    headers['content-type'] = req.headers.get('content-type') ?? 'application/octet-stream';
    const length = req.headers.get('content-length');
    if (length) headers['content-length'] = length;
  }
  if (first === 'eventsource') headers.accept = 'text/event-stream';
  const res = await fetch(target, {
    method: req.method,
    headers,
    body: req.method === 'POST' ? req.body : undefined,
    // @ts-expect-error -- Node's fetch needs duplex to stream a request body; the DOM typings do not know it.
    duplex: 'half',
    cache: 'no-store',
    signal: req.signal,
  }).catch(() => null);
  if (!res) return NextResponse.json({ statusCode: 502, error: 'bad gateway', message: 'the mail service cannot be reached; try again in a moment' }, { status: 502 });

  const out = new Headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  const type = res.headers.get('content-type');
  if (type) out.set('content-type', type);
  if (first === 'eventsource') {
    out.set('x-accel-buffering', 'no');
  } else if (first === 'download') {
    // A downloaded part is never a page of the portal: no scripts, no same-origin access, whatever it claims to be.
    out.set('content-security-policy', "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; plugin-types application/pdf");
    const base = (type ?? '').split(';')[0].trim().toLowerCase();
    const disposition = res.headers.get('content-disposition') ?? 'attachment';
    out.set('content-disposition', req.nextUrl.searchParams.get('inline') === '1' && INLINE_TYPES.has(base) ? disposition.replace(/^attachment/, 'inline') : disposition);
    const length = res.headers.get('content-length');
    if (length) out.set('content-length', length);
  }
  return new Response(res.body, { status: res.status, headers: out });
}

export { relay as GET, relay as POST };
