/** Mail for the webmail's browser tests, put in place over the API's JMAP (upload + Email/import) as the mailbox's owner. */
import type { Stack } from './stack';

const USING = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail', 'urn:ietf:params:jmap:submission'];

export interface MailUser {
  address: string;
  token: string;
  accountId: string;
  /** Folder ids by role (inbox, sent, …) and by name for the others. */
  folders: Record<string, string>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JMAP replies are read loosely in tests
export async function jmapAs(stack: Stack, user: Pick<MailUser, 'token'>, calls: [string, Record<string, unknown>, string][]): Promise<Record<string, any>> {
  const res = await fetch(`${stack.apiUrl}/jmap/api`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ using: USING, methodCalls: calls }),
  });
  if (!res.ok) throw new Error(`JMAP HTTP ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { methodResponses: [string, Record<string, unknown>, string][] };
  const out: Record<string, unknown> = {};
  for (const [name, result, tag] of body.methodResponses) {
    if (name === 'error') throw new Error(`JMAP ${tag}: ${JSON.stringify(result)}`);
    out[tag] = result;
  }
  return out;
}

export async function signInMailbox(stack: Stack, address: string, password: string): Promise<MailUser> {
  const login = await stack.api('POST', '/api/auth/login', { username: address, password });
  if (login.status !== 200 && login.status !== 201) throw new Error(`login ${address}: ${login.status}`);
  const token = login.body.accessToken as string;
  const session = (await (await fetch(`${stack.apiUrl}/jmap/session`, { headers: { authorization: `Bearer ${token}` } })).json()) as { primaryAccounts: Record<string, string> };
  const user: MailUser = { address, token, accountId: session.primaryAccounts['urn:ietf:params:jmap:mail'], folders: {} };
  await refreshFolders(stack, user);
  return user;
}

export async function refreshFolders(stack: Stack, user: MailUser): Promise<void> {
  const r = await jmapAs(stack, user, [['Mailbox/get', { accountId: user.accountId, ids: null }, 'm']]);
  for (const m of r.m.list as { id: string; role: string | null; name: string }[]) user.folders[m.role ?? m.name] = m.id;
}

export async function createFolder(stack: Stack, user: MailUser, name: string): Promise<string> {
  const r = await jmapAs(stack, user, [['Mailbox/set', { accountId: user.accountId, create: { f: { name, parentId: null } } }, 's']]);
  const id = r.s.created?.f?.id as string;
  if (!id) throw new Error(`Mailbox/set: ${JSON.stringify(r.s)}`);
  user.folders[name] = id;
  return id;
}

/** Puts a raw message into one of the user's folders (by role or name); returns its email id and blob id. */
export async function importMail(stack: Stack, user: MailUser, raw: string, folder = 'inbox', keywords: Record<string, boolean> = {}): Promise<{ id: string; blobId: string }> {
  const up = await fetch(`${stack.apiUrl}/jmap/upload/${user.accountId}`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'message/rfc822' }, body: raw });
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);
  const { blobId } = (await up.json()) as { blobId: string };
  const r = await jmapAs(stack, user, [['Email/import', { accountId: user.accountId, emails: { e: { blobId, mailboxIds: { [user.folders[folder]]: true }, keywords } } }, 'i']]);
  const created = r.i.created?.e as { id: string; blobId: string } | undefined;
  if (!created) throw new Error(`Email/import: ${JSON.stringify(r.i)}`);
  return created;
}

export function plainMessage(o: { from: string; to: string; subject: string; text: string; date?: string; id?: string }): string {
  return [
    `From: ${o.from}`,
    `To: ${o.to}`,
    `Subject: =?UTF-8?B?${Buffer.from(o.subject).toString('base64')}?=`,
    `Date: ${o.date ?? new Date().toUTCString()}`,
    `Message-ID: <${o.id ?? `${Math.random().toString(36).slice(2)}@example.org`}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    o.text,
    '',
  ].join('\r\n');
}
