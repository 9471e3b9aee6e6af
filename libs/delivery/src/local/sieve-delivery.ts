/**
 * What the Sieve scripts make of one message for one mailbox, in the terms local delivery carries out: the folders to
 * store a copy in (with IMAP flags), a rejection, redirects, a vacation reply. Scripts run in sieve-filter.ts.
 *
 * - keep stores into INBOX, or into Junk/Virus when the content filter said so (the filter's folder is the default
 *   place, as Dovecot's spam plugins do); fileinto stores into the named folder. A folder that does not exist is
 *   created only for `fileinto :create` (Pigeonhole's default); otherwise the copy goes to INBOX and the log says why.
 * - reject/ereject: no copy; the recipient bounces with 5.7.1 and the sender gets a DSN with the script's reason
 *   (delivery runs after the 250, so it cannot be refused in the SMTP dialogue).
 * - redirect sends the message on as a new spooled message carrying SIEVE_REDIRECT_HEADER; the spool rows are written
 *   in the transaction that settles the recipient, so a retry never redirects twice. A message that already carries
 *   the header naming this mailbox was redirected by it before: redirecting it again would loop, so it is kept.
 * - a script error, or anything that cannot be carried out, ends as a copy in INBOX: mail is never lost.
 */
import type { FolderRef, MessageStore } from '@dizi/mail-store/ports/message-store';
import { INBOX } from '@dizi/mail-store/ports/message-store';
import type { BodyTransform, SieveAction, SieveHeaderField, SieveMessage } from '@dizi/sieve/message';
import { decodeHeaderText } from '@dizi/mime/mime-header';
import libmime from 'libmime';
import { simpleParser } from 'mailparser';
import type { ActiveSieveScript } from '../ports/sieve-script-store';
import { SIEVE_REDIRECT_HEADER, SieveFilter, type SieveDecision, type SieveRunContext, type SieveRunLimits } from './sieve-filter';

export interface SieveStore {
  folder: FolderRef;
  /** Folder name for the delivery key and the log. */
  label: string;
  flags: string[];
}

export type SieveVacation = Extract<SieveAction, { type: 'vacation' }>;

export interface SievePlan {
  stores: SieveStore[];
  /** Set when a script rejected the message for this mailbox. */
  reject: string | null;
  redirects: string[];
  vacation: SieveVacation | null;
  /** The header block as editheader left it (admin scripts), to store and forward instead of the original. */
  editedHead: Buffer | null;
  decision: SieveDecision;
  /** What delivery did differently from what the scripts asked, for the log. */
  notes: string[];
}

/** A header field with its name as written (Sieve compares names without case, but editheader writes them back). */
export function sieveHeaderFields(raw: Buffer): SieveHeaderField[] {
  const fields: SieveHeaderField[] = [];
  for (const line of raw.toString('latin1').split(/\r?\n(?![ \t])/)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim(), value: decodeHeaderText(line.slice(colon + 1).trim()) });
  }
  return fields;
}

/** The body test's view of a message (RFC 5173): raw body, decoded text parts, or decoded parts by content type. */
export async function sieveBody(raw: Buffer): Promise<(t: BodyTransform) => string[]> {
  const split = raw.indexOf('\r\n\r\n');
  const rawBody = split < 0 ? '' : raw.subarray(split + 4).toString('utf8');
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true });
  const parts: Array<{ type: string; text: string }> = [];
  if (parsed.text) parts.push({ type: 'text/plain', text: parsed.text });
  if (typeof parsed.html === 'string') parts.push({ type: 'text/html', text: parsed.html });
  for (const a of parsed.attachments) parts.push({ type: a.contentType.toLowerCase(), text: a.content.toString('utf8') });
  return (t) => {
    if (t.kind === 'raw') return [rawBody];
    if (t.kind === 'text') return parts.filter((p) => p.type.startsWith('text/')).map((p) => p.text);
    return parts
      .filter((p) => t.types.some((want) => want === '' || p.type === want.toLowerCase() || (!want.includes('/') && p.type.startsWith(`${want.toLowerCase()}/`))))
      .map((p) => p.text);
  };
}

/** Header fields written back as a header block (non-ASCII values as RFC 2047 encoded words). */
export function headerBlockOf(fields: SieveHeaderField[]): Buffer {
  const lines = fields.map((f) => `${f.name}: ${/[^\x20-\x7e\t]/.test(f.value) ? libmime.encodeWords(f.value, 'B', 52) : f.value}\r\n`);
  return Buffer.from(`${lines.join('')}\r\n`, 'utf8');
}

const isInbox = (name: string) => name.toUpperCase() === 'INBOX';

export interface SieveMailbox {
  mailboxId: string;
  address: string;
  /** The content filter's folder for this mailbox (Junk, Virus), the default place of keep; null: INBOX. */
  filterFolder: FolderRef | null;
}

export interface SievePlanInput {
  scripts: ActiveSieveScript[];
  mailbox: SieveMailbox;
  message: Omit<SieveMessage, 'headers' | 'body'>;
  headers: SieveHeaderField[];
  body?: (t: BodyTransform) => string[];
  limits: SieveRunLimits;
  now?: () => Date;
  includes?: SieveRunContext['includes'];
}

export class SieveDelivery {
  constructor(private readonly store: Pick<MessageStore, 'listFolders' | 'createFolder'>, readonly filter = new SieveFilter()) {}

  async plan(input: SievePlanInput): Promise<SievePlan> {
    const { mailbox } = input;
    const folders = new Set((await this.store.listFolders(mailbox.mailboxId)).map((f) => f.name));
    const exists = (name: string) => isInbox(name) || folders.has(name);
    const decision = this.filter.run(input.scripts, {
      message: { ...input.message, headers: input.headers, body: input.body },
      userAddresses: [mailbox.address],
      mailboxExists: exists,
      limits: input.limits,
      now: input.now,
      includes: input.includes,
    });
    const plan: SievePlan = { stores: [], reject: null, redirects: [], vacation: null, editedHead: null, decision, notes: [] };
    const keepFolder: SieveStore = mailbox.filterFolder ? { folder: mailbox.filterFolder, label: ':filter', flags: [] } : { folder: { name: INBOX }, label: INBOX, flags: [] };
    const store = (target: SieveStore) => {
      const same = plan.stores.find((s) => s.label === target.label);
      if (same) same.flags = [...new Set([...same.flags, ...target.flags])];
      else plan.stores.push(target);
    };
    const reject = decision.actions.find((a) => a.type === 'reject');
    if (reject && reject.type === 'reject') {
      const others = decision.actions.filter((a) => a.type !== 'reject' && !(a.type === 'keep' && a.implicit));
      if (others.length > 0) plan.notes.push(`reject wins over ${others.map((a) => a.type).join(', ')} of an earlier level`);
      plan.reject = reject.reason;
      return plan;
    }
    const redirectedBefore = input.headers.some((h) => h.name.toLowerCase() === SIEVE_REDIRECT_HEADER.toLowerCase() && h.value.toLowerCase().includes(mailbox.address.toLowerCase()));
    for (const a of decision.actions) {
      if (a.type === 'keep') store({ ...keepFolder, flags: a.flags });
      else if (a.type === 'fileinto') {
        if (isInbox(a.mailbox)) store({ folder: { name: INBOX }, label: INBOX, flags: a.flags });
        else if (exists(a.mailbox)) store({ folder: { name: a.mailbox }, label: a.mailbox, flags: a.flags });
        else if (a.create && (await this.createFolder(mailbox.mailboxId, a.mailbox, plan))) {
          folders.add(a.mailbox);
          store({ folder: { name: a.mailbox }, label: a.mailbox, flags: a.flags });
        } else {
          if (!a.create) plan.notes.push(`fileinto "${a.mailbox}": no such folder (use :create), kept in INBOX`);
          store({ folder: { name: INBOX }, label: INBOX, flags: a.flags });
        }
      } else if (a.type === 'redirect') {
        if (redirectedBefore) {
          plan.notes.push(`redirect to ${a.address} refused: this mailbox redirected the message before (loop); kept`);
          store({ ...keepFolder, flags: [] });
        } else {
          plan.redirects.push(a.address);
        }
      } else if (a.type === 'vacation') plan.vacation = a;
    }
    if (decision.errors.length > 0 && plan.stores.length === 0) store({ folder: { name: INBOX }, label: INBOX, flags: [] });
    if (decision.headers) plan.editedHead = headerBlockOf(decision.headers);
    return plan;
  }

  private async createFolder(mailboxId: string, name: string, plan: SievePlan): Promise<boolean> {
    try {
      await this.store.createFolder(mailboxId, name, { subscribed: true });
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'FOLDER_EXISTS') return true;
      plan.notes.push(`fileinto :create "${name}": ${(err as Error).message}; kept in INBOX`);
      return false;
    }
  }
}
