/** A Maildir as the sync clients leave it: messages in cur/ and new/, IMAP flags in the `:2,` info of the file name. */
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LETTERS: Record<string, string> = { D: '\\Draft', F: '\\Flagged', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };

export interface MaildirMessage {
  path: string;
  bytes: Buffer;
  /** IMAP system flags, sorted. */
  flags: string[];
}

export function flagsOfName(name: string): string[] {
  const info = /:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '';
  return [...info].filter((c) => LETTERS[c]).map((c) => LETTERS[c]).sort();
}

export function readMaildir(dir: string): MaildirMessage[] {
  const out: MaildirMessage[] = [];
  for (const sub of ['cur', 'new']) {
    for (const name of readdirSync(join(dir, sub))) {
      if (name.startsWith('.')) continue;
      const path = join(dir, sub, name);
      out.push({ path, bytes: readFileSync(path), flags: flagsOfName(name) });
    }
  }
  return out;
}

/** Sets the message's flags the way a mail reader does: a rename within cur/ with new info letters. */
export function setMaildirFlags(message: MaildirMessage, flags: string[]): string {
  const letters = Object.entries(LETTERS).filter(([, f]) => flags.includes(f)).map(([l]) => l).sort().join('');
  const base = message.path.split('/').pop()!.replace(/:2,[A-Za-z]*$/, '');
  const dir = message.path.split('/').slice(0, -2).join('/');
  const next = join(dir, 'cur', `${base}:2,${letters}`);
  renameSync(message.path, next);
  return next;
}

export function deleteMaildirMessage(message: MaildirMessage): void {
  rmSync(message.path);
}

/** A message a local mail reader wrote (unique name in new/, LF line ends as Maildir keeps them). */
export function addMaildirMessage(dir: string, bytes: Buffer, name: string): void {
  writeFileSync(join(dir, 'new', `${Math.floor(Date.now() / 1000)}.${name}.localhost`), bytes);
}
