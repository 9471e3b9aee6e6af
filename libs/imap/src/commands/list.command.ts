// LIST with LIST-EXTENDED selection and return options, SPECIAL-USE, CHILDREN and LIST-STATUS (RFC 5258, 6154, 5819).
import type { Folder } from '@dizi/mail-store/ports/message-store';
import { FOLDER_DELIMITER, INBOX } from '@dizi/mail-store/ports/message-store';
import { AUTHENTICATED, defineCommand, type CommandContext } from '../command';
import { bad } from '../imap-error';
import { decodeMutf7 } from '../mutf7';
import { argString, type ImapArg } from '../parser/command-parser';
import { quoteString } from '../wire';
import { statusLine } from './status.command';

// RFC 6154 has no attribute for quarantined viruses; calling Virus \\Junk as well made clients file spam there.
const SPECIAL_FLAGS: Record<string, string> = { sent: '\\Sent', drafts: '\\Drafts', trash: '\\Trash', junk: '\\Junk' };

export function patternRegex(reference: string, pattern: string): RegExp {
  const full = pattern.startsWith(FOLDER_DELIMITER) || reference === '' ? pattern : reference.endsWith(FOLDER_DELIMITER) ? reference + pattern : reference + pattern;
  let src = '';
  for (const c of full) {
    if (c === '*') src += '.*';
    else if (c === '%') src += '[^/]*';
    else src += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  // INBOX is case-insensitive, also as the first level of a pattern.
  if (/^inbox(\/|$)/i.test(full)) src = '(?:INBOX|inbox|[Ii][Nn][Bb][Oo][Xx])' + src.slice(5);
  return new RegExp(`^${src}$`, 's');
}

function decodePattern(session: CommandContext['session'], text: string): string {
  if (session.utf8 && !text.includes('&')) return text;
  return decodeMutf7(text) ?? text;
}

interface ListOptions {
  subscribedOnly: boolean;
  specialUseOnly: boolean;
  recursiveMatch: boolean;
  returnSubscribed: boolean;
  returnChildren: boolean;
  returnSpecialUse: boolean;
  returnStatus: ImapArg[] | null;
}

export async function runList(ctx: CommandContext, args: ImapArg[], lsub: boolean): Promise<void> {
  const { session } = ctx;
  const opts: ListOptions = { subscribedOnly: lsub, specialUseOnly: false, recursiveMatch: false, returnSubscribed: false, returnChildren: true, returnSpecialUse: true, returnStatus: null };
  let i = 0;
  let extended = false;
  if (!lsub && args[0]?.type === 'list') {
    extended = true;
    for (const o of args[0].items) {
      const name = argString(o)?.toUpperCase();
      if (name === 'SUBSCRIBED') opts.subscribedOnly = opts.returnSubscribed = true;
      else if (name === 'SPECIAL-USE') opts.specialUseOnly = true;
      else if (name === 'RECURSIVEMATCH') opts.recursiveMatch = true;
      else if (name === 'REMOTE') continue;
      else throw bad(`Unknown LIST selection option ${name ?? ''}`);
    }
    if (opts.recursiveMatch && !opts.subscribedOnly) throw bad('RECURSIVEMATCH needs another selection option');
    i = 1;
  }
  const reference = argString(args[i]);
  const patternArg = args[i + 1];
  if (reference === null || !patternArg) throw bad('LIST needs a reference and a mailbox pattern');
  const patterns: string[] = [];
  if (patternArg.type === 'list') {
    extended = true;
    for (const p of patternArg.items) {
      const s = argString(p);
      if (s === null) throw bad('Invalid mailbox pattern');
      patterns.push(s);
    }
  } else {
    // NIL is an atom to a sloppy client: a pattern matching a mailbox named "NIL".
    const s = patternArg.type === 'nil' ? 'NIL' : argString(patternArg);
    if (s === null) throw bad('Invalid mailbox pattern');
    patterns.push(s);
  }
  i += 2;
  if (!lsub && args[i]) {
    const kw = argString(args[i])?.toUpperCase();
    const list = args[i + 1];
    if (kw !== 'RETURN' || !list || list.type !== 'list') throw bad('Expected RETURN (options)');
    for (let k = 0; k < list.items.length; k++) {
      const name = argString(list.items[k])?.toUpperCase();
      if (name === 'SUBSCRIBED') opts.returnSubscribed = true;
      else if (name === 'CHILDREN') opts.returnChildren = true;
      else if (name === 'SPECIAL-USE') opts.returnSpecialUse = true;
      else if (name === 'STATUS') {
        const items = list.items[++k];
        if (!items || items.type !== 'list') throw bad('RETURN (STATUS (items))');
        opts.returnStatus = items.items;
      } else throw bad(`Unknown LIST return option ${name ?? ''}`);
    }
    i += 2;
    extended = true;
  }
  if (args.length > i) throw bad('Too many arguments');
  void extended;

  const ref = decodePattern(session, reference);
  if (patterns.length === 1 && patterns[0] === '') {
    // The hierarchy delimiter and root of the reference.
    const root = ref.split(FOLDER_DELIMITER)[0];
    session.untagged(`${lsub ? 'LSUB' : 'LIST'} (\\Noselect) ${quoteString(FOLDER_DELIMITER)} ${quoteString(root)}`);
    return;
  }
  const regexes = patterns.map((p) => patternRegex(ref, decodePattern(session, p)));
  const folders = await session.store.listFolders(session.mailboxId!);
  const names = new Set(folders.map((f) => f.name));
  const matches = (name: string) => regexes.some((r) => r.test(name));
  // Every name that is some folder's ancestor, once: a lookup per folder instead of a scan of all (LIST of 500 folders).
  const parents = new Set<string>();
  for (const f of folders) {
    for (let at = f.name.lastIndexOf(FOLDER_DELIMITER); at > 0; at = f.name.lastIndexOf(FOLDER_DELIMITER, at - 1)) {
      const parent = f.name.slice(0, at);
      if (parents.has(parent)) break;
      parents.add(parent);
    }
  }
  const hasChildren = (f: Folder) => parents.has(f.name);
  const emitted = new Set<string>();
  // Subscriptions whose folder is gone (or not created yet) are listed too, as \NonExistent (RFC 5258 §3.1).
  const detached = opts.subscribedOnly ? (await session.store.listDetachedSubscriptions(session.mailboxId!)).filter((n) => !names.has(n)) : [];
  const subscribedNames = [...folders.filter((f) => f.subscribed).map((f) => f.name), ...detached];

  for (const f of folders) {
    const subscribed = f.subscribed;
    if (opts.specialUseOnly && !(f.specialUse && SPECIAL_FLAGS[f.specialUse])) continue;
    if (opts.subscribedOnly && !subscribed) {
      // A subscribed child the patterns miss makes its unsubscribed parent appear (LSUB \Noselect, LIST CHILDINFO).
      const child = subscribedNames.find((n) => n.startsWith(f.name + FOLDER_DELIMITER) && !matches(n));
      if (child && matches(f.name)) {
        if (lsub) session.untagged(`LSUB (\\Noselect) ${quoteString(FOLDER_DELIMITER)} ${session.wireName(f.name)}`);
        else if (opts.recursiveMatch) {
          const flags = opts.returnChildren ? (hasChildren(f) ? '\\HasChildren' : '\\HasNoChildren') : '';
          session.untagged(`LIST (${flags}) ${quoteString(FOLDER_DELIMITER)} ${session.wireName(f.name)} ("CHILDINFO" ("SUBSCRIBED"))`);
        }
        emitted.add(f.name);
      }
      continue;
    }
    if (!matches(f.name)) continue;
    const flags: string[] = [];
    if (!lsub && opts.returnChildren) flags.push(hasChildren(f) ? '\\HasChildren' : '\\HasNoChildren');
    if (!lsub && opts.returnSpecialUse && f.specialUse && SPECIAL_FLAGS[f.specialUse]) flags.push(SPECIAL_FLAGS[f.specialUse]);
    if (!lsub && (opts.returnSubscribed || opts.subscribedOnly) && subscribed) flags.push('\\Subscribed');
    if (!lsub && f.name === INBOX && !flags.includes('\\HasChildren')) flags.push('\\Marked');
    session.untagged(`${lsub ? 'LSUB' : 'LIST'} (${flags.filter((x) => x !== '\\Marked').join(' ')}) ${quoteString(FOLDER_DELIMITER)} ${session.wireName(f.name)}`);
    emitted.add(f.name);
    if (opts.returnStatus) {
      const line = await statusLine(session, f.name, opts.returnStatus, f).catch(() => null);
      if (line) session.untagged(line);
    }
  }
  for (const name of detached) {
    if (!matches(name)) continue;
    const flags = lsub ? '' : '\\Subscribed \\NonExistent';
    session.untagged(`${lsub ? 'LSUB' : 'LIST'} (${flags}) ${quoteString(FOLDER_DELIMITER)} ${session.wireName(name)}`);
  }
}

export const listCommand = defineCommand({
  name: 'LIST',
  states: AUTHENTICATED,
  args: ['rest'],
  async handle(ctx, [rest]) {
    await runList(ctx, rest as ImapArg[], false);
  },
});
