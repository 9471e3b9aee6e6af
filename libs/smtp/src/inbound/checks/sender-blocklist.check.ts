/** MAIL: operator sender block list. `@spam.test` blocks a domain, `spam@x.test` one sender; `*` matches any run of characters. */
import type { Check, MailInput } from '../pipeline';
import { CONTINUE, reject } from '../verdict';

const compiled = new WeakMap<readonly string[], RegExp[]>();

function patterns(list: readonly string[]): RegExp[] {
  let r = compiled.get(list);
  if (!r) {
    r = list.map((p) => {
      const pattern = p.trim().toLowerCase();
      const full = pattern.startsWith('@') ? `*${pattern}` : pattern;
      const body = full.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
      return new RegExp(`^${body}$`);
    });
    compiled.set(list, r);
  }
  return r;
}

export function senderBlocked(sender: string, list: readonly string[]): boolean {
  if (!sender || list.length === 0) return false;
  const s = sender.toLowerCase();
  return patterns(list).some((re) => re.test(s));
}

export const senderBlocklistCheck: Check<MailInput> = {
  name: 'sender-blocklist',
  run({ sender, settings }) {
    if (senderBlocked(sender, settings.senderBlockList)) return reject(550, '5.7.1', 'Sender address refused by policy');
    return CONTINUE;
  },
};
