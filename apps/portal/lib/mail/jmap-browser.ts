'use client';
/** The webmail's JMAP client in the browser: every call through the portal's /bff/jmap relay (the token stays on the server). */

export const USING = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail', 'urn:ietf:params:jmap:submission', 'urn:ietf:params:jmap:vacationresponse'];

export interface EmailAddress {
  name: string | null;
  email: string;
}

export interface Mailbox {
  id: string;
  name: string;
  parentId: string | null;
  role: string | null;
  sortOrder: number;
  totalEmails: number;
  unreadEmails: number;
}

export interface EmailSummary {
  id: string;
  threadId: string;
  mailboxIds: Record<string, boolean>;
  keywords: Record<string, boolean>;
  from: EmailAddress[] | null;
  to: EmailAddress[] | null;
  subject: string | null;
  receivedAt: string;
  size: number;
  preview: string;
  hasAttachment: boolean;
  /** In search results: the searched words marked (SearchSnippet/get), as the server's escaped HTML. */
  snippet?: Snippet;
}

export interface Snippet {
  emailId: string;
  subject: string | null;
  preview: string | null;
}

export interface BodyPart {
  partId: string;
  blobId: string;
  name: string | null;
  type: string;
  size: number;
  cid: string | null;
  disposition: string | null;
}

export interface EmailDetail extends EmailSummary {
  blobId: string;
  cc: EmailAddress[] | null;
  replyTo: EmailAddress[] | null;
  sentAt: string | null;
  messageId: string[] | null;
  references: string[] | null;
  attachments: BodyPart[];
}

export interface IdentitySignature {
  name: string;
  textSignature: string;
  htmlSignature: string;
  isDefault: boolean;
}

export interface Identity {
  id: string;
  name: string;
  email: string;
  textSignature?: string;
  /** Dizi's extension of Identity: up to three, one of them the default. */
  signatures?: IdentitySignature[];
}

export class JmapError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 200,
  ) {
    super(message);
  }
}

export type Invocation = [string, Record<string, unknown>, string];

/** Sends method calls in one request; a method error is thrown with its JMAP type. */
export async function jmap(calls: Invocation[]): Promise<Record<string, Record<string, unknown>>> {
  let res: Response;
  try {
    res = await fetch('/bff/jmap/api', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ using: USING, methodCalls: calls }),
    });
  } catch {
    throw new JmapError('network', 'network', 0);
  }
  if (res.status === 401) {
    window.location.assign('/sign-in?reason=expired&next=/mail');
    throw new JmapError('unauthorized', 'unauthorized', 401);
  }
  const body = (await res.json().catch(() => ({}))) as { methodResponses?: Invocation[]; detail?: string; message?: string };
  if (!res.ok || !body.methodResponses) throw new JmapError('server', body.detail ?? body.message ?? `HTTP ${res.status}`, res.status);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, result, tag] of body.methodResponses) {
    if (name === 'error') throw new JmapError(String(result.type), String(result.description ?? result.type));
    out[tag] = result;
  }
  return out;
}

export async function jmapSession(): Promise<{ accountId: string; username: string }> {
  const res = await fetch('/bff/jmap/session', { credentials: 'same-origin' });
  if (res.status === 401) {
    window.location.assign('/sign-in?reason=expired&next=/mail');
    throw new JmapError('unauthorized', 'unauthorized', 401);
  }
  if (!res.ok) throw new JmapError('server', `HTTP ${res.status}`, res.status);
  const s = (await res.json()) as { primaryAccounts: Record<string, string>; username: string };
  return { accountId: s.primaryAccounts['urn:ietf:params:jmap:mail'], username: s.username };
}

/** Uploads a file with progress (XMLHttpRequest: fetch reports no upload progress). */
export function uploadBlob(accountId: string, file: File, onProgress: (fraction: number) => void): Promise<{ blobId: string; size: number; type: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/bff/jmap/upload/${encodeURIComponent(accountId)}`);
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(JSON.parse(xhr.responseText));
      else reject(new JmapError(xhr.status === 413 ? 'tooLarge' : 'server', xhr.responseText, xhr.status));
    };
    xhr.onerror = () => reject(new JmapError('network', 'network', 0));
    xhr.send(file);
  });
}

export function downloadUrl(accountId: string, blobId: string, name: string, type: string, inline = false): string {
  const q = new URLSearchParams({ type });
  if (inline) q.set('inline', '1');
  return `/bff/jmap/download/${encodeURIComponent(accountId)}/${encodeURIComponent(blobId)}/${encodeURIComponent(name)}?${q}`;
}

export const SUMMARY_PROPERTIES = ['id', 'threadId', 'mailboxIds', 'keywords', 'from', 'to', 'subject', 'receivedAt', 'size', 'preview', 'hasAttachment'];
export const DETAIL_PROPERTIES = [...SUMMARY_PROPERTIES, 'blobId', 'cc', 'replyTo', 'sentAt', 'messageId', 'references', 'attachments'];
