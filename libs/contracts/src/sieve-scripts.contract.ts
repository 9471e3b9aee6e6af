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

/** The consoles' simple rules (libs/sieve/src/rules.ts): condition/action data the API writes as Sieve and reads back. */
const ruleText = z.string().max(4096);
export const sieveRuleCondition = z
  .object({
    field: z.enum(['from', 'to', 'subject', 'body', 'size']),
    op: z.enum(['contains', 'is', 'matches', 'over', 'under']).describe('contains/is/matches for text; over/under for size'),
    value: ruleText.describe('text, or for size bytes with an optional K, M or G'),
    not: z.boolean().optional(),
  })
  .strict();
export const sieveRuleAction = z.discriminatedUnion('type', [
  z.object({ type: z.literal('reject'), reason: ruleText }).strict(),
  z.object({ type: z.literal('fileinto'), folder: z.string().max(1000) }).strict(),
  z.object({ type: z.literal('redirect'), address: z.string().max(320), keepCopy: z.boolean() }).strict(),
  z.object({ type: z.literal('vacation'), days: z.number().int(), subject: z.string().max(998), reason: ruleText }).strict(),
  z.object({ type: z.literal('flag'), flag: z.enum(['seen', 'flagged']) }).strict(),
  z.object({ type: z.literal('discard') }).strict(),
  z.object({ type: z.literal('stop') }).strict(),
]);
export const sieveRule = z
  .object({
    name: z.string().max(100),
    enabled: z.boolean(),
    match: z.enum(['any', 'all']),
    conditions: z.array(sieveRuleCondition).max(32),
    actions: z.array(sieveRuleAction).max(16),
  })
  .strict();
export const sieveRulesRequest = z.object({ rules: z.array(sieveRule).max(200) }).strict();
export const sieveRulesScriptView = z.object({ content: z.string().describe('the Sieve script; save it with the scripts endpoints') });
export const sieveScriptContentRequest = z.object({ content: z.string().max(1024 * 1024) }).strict();
export const sieveRulesReadView = z.object({
  kind: z.enum(['rules', 'code']).describe('rules: written by the rules form and unchanged; code: show it in the code editor'),
  rules: z.array(sieveRule).optional(),
  reason: z.string().optional().describe('why it is shown as code'),
});
