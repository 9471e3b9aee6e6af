/**
 * Sieve scripts (RFC 5228) at three levels: the operator's global scripts, a domain's, a mailbox's. Delivery runs the
 * active one of each level in that order; ManageSieve (RFC 5804) edits the same scripts.
 */
import { z } from 'zod';
import { isoDate } from './common.contract';

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators (RFC 5804 §1.6 forbids them in names). */
export function hasControlCharacter(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** RFC 5804 §1.6: a script name is UTF-8 without control characters, at most 255 octets here (and not empty). */
export const sieveScriptName = z.string().min(1).max(255)
  .refine((n) => !hasControlCharacter(n) && Buffer.byteLength(n) <= 255, 'a script name has no control characters and at most 255 bytes')
  .describe('the script name, e.g. "filters"');

export const sieveScriptView = z.object({
  name: z.string(),
  active: z.boolean().describe('the one script of this owner delivery runs'),
  final: z.boolean().describe('global and domain scripts: once it acted (or stopped), the lower levels do not run'),
  size: z.number().int().describe('octets of UTF-8'),
  updatedAt: isoDate,
});

export const sieveScriptListView = z.object({
  level: z.enum(['global', 'domain', 'mailbox']),
  owner: z.string().nullable().describe('the domain name or mailbox address; null for global'),
  scripts: z.array(sieveScriptView),
  maxScriptSize: z.number().int().describe('setting sieveMaxScriptSize'),
  maxScripts: z.number().int().describe('setting sieveMaxScripts'),
});

export const sieveScriptDetailView = sieveScriptView.extend({ content: z.string() });

export const createSieveScriptRequest = z
  .object({
    name: sieveScriptName,
    content: z.string().max(1024 * 1024).describe('the Sieve script; checked with the same parser delivery uses (errors say line:column)'),
    final: z.boolean().optional().describe('global and domain scripts only'),
    activate: z.boolean().optional().describe('make it the active script as well'),
  })
  .strict();

export const putSieveScriptRequest = z
  .object({
    content: z.string().max(1024 * 1024).describe('the Sieve script; checked with the same parser delivery uses (errors say line:column)'),
    final: z.boolean().optional().describe('global and domain scripts only; unset keeps the stored value'),
    activate: z.boolean().optional().describe('make it the active script as well'),
  })
  .strict();
