/**
 * A message's body for the reading pane, made on the server: HTML sanitised into a document for a sandboxed iframe
 * (remote images only with ?images=1), or the plain text. The raw HTML never reaches the browser.
 */
import { NextRequest, NextResponse } from 'next/server';
import { jmapBlob, jmapCall, JmapCallError } from '../../../../../lib/mail/jmap-server';
import { htmlToPlain, sanitizeMailHtml } from '../../../../../lib/mail/sanitize-mail';
import { Session, SESSION_COOKIE, unseal } from '../../../../../lib/session';

interface Part {
  partId: string;
  blobId: string;
  type: string;
  size: number;
  cid: string | null;
}
interface EmailBody {
  id: string;
  htmlBody: Part[];
  textBody: Part[];
  attachments: Part[];
  bodyValues: Record<string, { value: string; isTruncated: boolean }>;
}

const MAX_BODY_BYTES = 2_000_000;
/** Inline (cid:) images embedded as data: URLs, up to this much in all. */
const MAX_INLINE_BYTES = 5_000_000;

export async function GET(req: NextRequest, ctx: { params: Promise<{ emailId: string }> }): Promise<NextResponse> {
  const session = unseal<Session>(req.cookies.get(SESSION_COOKIE)?.value);
  if (!session) return NextResponse.json({ statusCode: 401, error: 'unauthorized', message: 'the session has ended; sign in again' }, { status: 401 });
  const { emailId } = await ctx.params;
  const accountId = req.nextUrl.searchParams.get('account') ?? '';
  const allowRemote = req.nextUrl.searchParams.get('images') === '1';
  try {
    const got = await jmapCall<{ list: EmailBody[]; notFound: string[] }>(session.accessToken, 'Email/get', {
      accountId,
      ids: [emailId],
      properties: ['id', 'htmlBody', 'textBody', 'attachments', 'bodyValues'],
      fetchHTMLBodyValues: true,
      fetchTextBodyValues: true,
      maxBodyValueBytes: MAX_BODY_BYTES,
    });
    const email = got.list[0];
    if (!email) return NextResponse.json({ statusCode: 404, error: 'not found', message: 'no such message' }, { status: 404 });
    const html = email.htmlBody.filter((p) => p.type === 'text/html');
    const headers = { 'cache-control': 'no-store' };
    if (req.nextUrl.searchParams.get('text') === '1') {
      // The words alone, for quoting in a reply or forward.
      const plain = email.textBody.map((p) => (p.type === 'text/html' ? htmlToPlain(email.bodyValues[p.partId]?.value ?? '') : email.bodyValues[p.partId]?.value ?? '')).join('\n');
      return NextResponse.json({ kind: 'text', plain }, { headers });
    }
    if (html.length > 0) {
      const raw = html.map((p) => email.bodyValues[p.partId]?.value ?? '').join('\n');
      const inlineImages = new Map<string, string>();
      let budget = MAX_INLINE_BYTES;
      for (const part of [...email.attachments, ...email.htmlBody]) {
        if (!part.cid || !/^image\/(png|jpeg|gif|webp)$/.test(part.type) || part.size > budget) continue;
        const bytes = await jmapBlob(session.accessToken, accountId, part.blobId);
        if (!bytes) continue;
        budget -= bytes.length;
        inlineImages.set(part.cid.replace(/^<|>$/g, '').toLowerCase(), `data:${part.type};base64,${bytes.toString('base64')}`);
      }
      const clean = sanitizeMailHtml(raw, { allowRemote, inlineImages });
      return NextResponse.json({ kind: 'html', html: clean.html, blockedRemote: clean.blockedRemote }, { headers });
    }
    const text = email.textBody.map((p) => email.bodyValues[p.partId]?.value ?? '').join('\n');
    return NextResponse.json({ kind: 'text', text, blockedRemote: 0 }, { headers });
  } catch (e) {
    const status = e instanceof JmapCallError && e.status === 401 ? 401 : 404;
    return NextResponse.json({ statusCode: status, error: status === 401 ? 'unauthorized' : 'not found', message: status === 401 ? 'the session has ended; sign in again' : 'no such message' }, { status });
  }
}
