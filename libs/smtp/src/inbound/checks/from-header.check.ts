/**
 * Content, signed-in sessions: every address in the From: header must be one of the user's own (as the envelope
 * sender must be, sender-login.check.ts), or a user could pass the MAIL FROM check and still show recipients any
 * name they like. 553 5.7.1 before the final reply, so nothing is sent. A message without From: claims no one.
 */
import addressparser from 'nodemailer/lib/addressparser';
import { addressKey } from '@dizi/domain/lookup-key';
import type { Check, ContentInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

/** Every mailbox address of some From: values, groups flattened; null when one cannot be read as addresses. */
export function fromAddresses(values: readonly string[]): string[] | null {
  const out: string[] = [];
  const walk = (list: ReturnType<typeof addressparser>): boolean => {
    for (const a of list) {
      if ('group' in a && a.group) {
        if (!walk(a.group)) return false;
      } else if ('address' in a) {
        if (!a.address || !a.address.includes('@')) return false;
        out.push(a.address);
      }
    }
    return true;
  };
  for (const v of values) if (!walk(addressparser(v))) return null;
  return out;
}

export const fromHeaderCheck: Check<ContentInput> = {
  name: 'from-header',
  async run({ session, deps, header, marks }) {
    const user = session.user;
    if (!user) return CONTINUE;
    const refuse = (why: string) => {
      marks.notes.push(`from: ${why}`);
      return reject(553, '5.7.1', `From: header address rejected: not owned by user ${user.address}`);
    };
    if (header.fromTruncated) return refuse('header too long to read');
    const addresses = fromAddresses(header.from);
    if (addresses === null) return refuse('unreadable address');
    for (const address of addresses) {
      const key = addressKey(address);
      if (!(await deps.directory.resolveSender(key, user.mailboxId)).owned) return refuse(`${key} not owned`);
    }
    return CONTINUE;
  },
};
