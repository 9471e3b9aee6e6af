import { describe, expect, it } from 'vitest';
import { testMessage } from '../test/sieve-message';
import { RULES_MARKER, RuleError, type SieveRule, rulesToSieve, sieveToRules } from './rules';
import { parseSieve, runSieve } from './sieve';

const rules: SieveRule[] = [
  {
    name: 'Invoices "2026" \\ finance',
    enabled: true,
    match: 'all',
    conditions: [
      { field: 'from', op: 'contains', value: '@billing.example' },
      { field: 'subject', op: 'matches', value: 'Invoice*' },
      { field: 'size', op: 'under', value: '2M' },
    ],
    actions: [{ type: 'fileinto', folder: '财务/Invoices' }, { type: 'flag', flag: 'seen' }, { type: 'stop' }],
  },
  {
    name: 'Spammy words',
    enabled: true,
    match: 'any',
    conditions: [
      { field: 'body', op: 'contains', value: 'casino' },
      { field: 'to', op: 'is', value: 'old@example.com', not: true },
    ],
    actions: [{ type: 'reject', reason: 'No thanks / 不接收' }],
  },
  { name: 'Copy to boss', enabled: false, match: 'any', conditions: [{ field: 'size', op: 'over', value: '1536' }], actions: [{ type: 'redirect', address: 'boss@example.com', keepCopy: true }] },
  { name: 'Away', enabled: true, match: 'any', conditions: [], actions: [{ type: 'vacation', days: 3, subject: 'Away', reason: 'Back Monday.\nLine two.' }, { type: 'flag', flag: 'flagged' }] },
];

const message = (from: string, subject: string, body = 'hello', size?: number) =>
  testMessage({ headers: `From: ${from}\r\nTo: user@example.com\r\nSubject: ${subject}`, body, size });

describe('simple rules over Sieve', () => {
  it('writes a script the engine accepts, which reads back into the same rules', () => {
    const text = rulesToSieve(rules);
    expect(text.startsWith(`${RULES_MARKER}\n`)).toBe(true);
    expect(text).toContain('require ["body", "copy", "fileinto", "imap4flags", "mailbox", "reject", "vacation"];');
    expect(text).toContain('size :under 2M');
    expect(text).toContain('size :over 1536');
    expect(text).toContain('if allof (false, anyof (size :over 1536)) {');
    expect(() => parseSieve(text)).not.toThrow();
    // Flags are written before the other actions (they apply only to the actions after them): read back in that order.
    const written = rules.map((r) => ({ ...r, actions: [...r.actions.filter((a) => a.type === 'flag'), ...r.actions.filter((a) => a.type !== 'flag')] }));
    expect(written[0].actions.map((a) => a.type)).toEqual(['flag', 'fileinto', 'stop']);
    expect(text.indexOf('addflag "\\Seen"')).toBeLessThan(text.indexOf('fileinto :create'));
    expect(sieveToRules(text)).toEqual({ kind: 'rules', rules: written });
    expect(rulesToSieve(written)).toBe(text);
    // CRLF (as ManageSieve clients store it) reads back the same.
    expect(sieveToRules(text.replace(/\n/g, '\r\n'))).toEqual({ kind: 'rules', rules: written });
  });

  it('files, rejects and skips as the rules say when the engine runs the script', () => {
    const script = parseSieve(rulesToSieve(rules));
    const env = { userAddresses: ['user@example.com'] };
    const invoice = runSieve(script, message('Bills <a@billing.example>', 'Invoice 12'), env);
    expect(invoice.errors).toEqual([]);
    expect(invoice.actions).toEqual([expect.objectContaining({ type: 'fileinto', mailbox: '财务/Invoices', flags: ['\\Seen'], create: true })]);
    expect(invoice.stopped).toBe(true);
    // Same sender, subject not matching: the first rule does not apply; "to" is not old@ so rule 2 (any) rejects.
    const other = runSieve(script, message('a@billing.example', 'Hello'), env);
    expect(other.errors).toEqual([]);
    expect(other.actions.map((a) => a.type)).toEqual(['reject']);
    expect(other.stopped).toBe(true);
    // The disabled rule never redirects, even for a large message.
    const big = runSieve(script, testMessage({ headers: 'From: x@y.example\r\nTo: user@example.com, old@example.com\r\nSubject: s', body: 'plain', size: 10_000 }), env);
    expect(big.actions.map((a) => a.type).sort()).toEqual(['keep', 'vacation']);
    expect(big.actions.find((a) => a.type === 'keep')).toMatchObject({ flags: ['\\Flagged'] });
  });

  it('keeps a hand-edited or foreign script as code, never rewriting it', () => {
    const text = rulesToSieve(rules);
    for (const edited of [
      text.replace('stop;', 'stop; # mine'),
      text.replace('  reject', '    reject'),
      text.replace('# rule: "Spammy words"\n', ''),
      text.replace('discard', 'discard').replace('fileinto :create', 'fileinto'),
      `${text}keep;\n`,
      'require "fileinto";\nif header :contains "subject" "x" { fileinto "X"; }\n',
      `${RULES_MARKER}\nif header :contains "subject" {`,
      text.replace('# rule: "Spammy words"', '# rule: "bad \\x escape"'),
    ]) {
      const back = sieveToRules(edited);
      expect(back.kind, edited.slice(-60)).toBe('code');
    }
    expect(sieveToRules('')).toEqual({ kind: 'rules', rules: [] });
  });

  it('refuses a rule the form cannot save, saying which rule and what to fix', () => {
    const bad = (patch: Partial<SieveRule>) => () => rulesToSieve([rules[0], { ...rules[1], ...patch }]);
    expect(bad({ name: ' ' })).toThrow(/rule 2: name/);
    expect(bad({ actions: [] })).toThrow(/add at least one action/);
    expect(bad({ conditions: [{ field: 'size', op: 'contains', value: '1' }] })).toThrow(/over or under/);
    expect(bad({ conditions: [{ field: 'size', op: 'over', value: '10 MB' }] })).toThrow(/500K/);
    expect(bad({ conditions: [{ field: 'size', op: 'over', value: '9999999999G' }] })).toThrow(RuleError);
    expect(bad({ conditions: [{ field: 'subject', op: 'over', value: 'x' }] })).toThrow(/contains, is or matches/);
    expect(bad({ actions: [{ type: 'redirect', address: 'nobody', keepCopy: false }] })).toThrow(/address to forward to/);
    expect(bad({ actions: [{ type: 'stop' }, { type: 'discard' }] })).toThrow(/stop comes last/);
    expect(bad({ actions: [{ type: 'reject', reason: 'no' }, { type: 'fileinto', folder: 'X' }] })).toThrow(/last action/);
    expect(bad({ actions: [{ type: 'vacation', days: 0, subject: '', reason: 'x' }] })).toThrow(/1–365/);
  });
});
