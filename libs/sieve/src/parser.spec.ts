import { describe, expect, it } from 'vitest';
import { parseSieve } from './sieve';
import { tokenize } from './lexer';
import { SieveError } from './sieve-error';

const syntaxOnly = (text: string) => parseSieve(text, { validate: false });

function errorOf(fn: () => unknown): SieveError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SieveError) return error;
    throw error;
  }
  throw new Error('expected a SieveError');
}

describe('Sieve lexer', () => {
  it('reads numbers with K, M and G quantifiers (RFC 5228 §2.4.1)', () => {
    const numbers = tokenize('1 10k 2M 1G 007').filter((t) => t.kind === 'number').map((t) => t.value);
    expect(numbers).toEqual([1, 10 * 1024, 2 * 1024 * 1024, 1024 ** 3, 7]);
  });

  it('refuses a number glued to letters and one too large', () => {
    expect(errorOf(() => tokenize('size :over 10kb;')).message).toMatch(/line 1:12: invalid number/);
    expect(errorOf(() => tokenize('99999999999999999999')).reason).toMatch(/too large/);
  });

  it('decodes quoted-string escapes: \\" and \\\\ and any other escaped character stands for itself', () => {
    const [t] = tokenize('"a\\"b\\\\c\\d"');
    expect(t.text).toBe('a"b\\cd');
  });

  it('reads a multi-line string with dot-stuffing, a comment after text:, and CRLF line ends (§2.4.2)', () => {
    const [t] = tokenize('text: # a comment\r\nline one\r\n..dotted\r\n.\r\n');
    expect(t.kind).toBe('string');
    expect(t.text).toBe('line one\r\n.dotted\r\n');
  });

  it('accepts bare LF line ends in a multi-line string and keeps the string empty when the dot comes first', () => {
    expect(tokenize('text:\n.\n')[0].text).toBe('');
    expect(tokenize('text:\nhi\n.\n')[0].text).toBe('hi\r\n');
  });

  it('skips hash and bracket comments across lines, counting lines for positions', () => {
    const tokens = tokenize('# one\n/* two\nthree */ keep;');
    expect(tokens[0]).toMatchObject({ kind: 'identifier', text: 'keep', position: { line: 3, column: 10 } });
  });

  it('reports an unterminated string, comment and multi-line string where it starts', () => {
    expect(errorOf(() => tokenize('keep;\n  "abc')).message).toBe('line 2:3: unterminated quoted string (missing closing ")');
    expect(errorOf(() => tokenize('/* x')).message).toMatch(/^line 1:1: unterminated bracket comment/);
    expect(errorOf(() => tokenize('text:\nabc\n')).message).toMatch(/^line 1:1: unterminated multi-line string/);
    expect(errorOf(() => tokenize('text: x\n.\n')).reason).toMatch(/end of the line/);
  });
});

describe('Sieve parser', () => {
  it('builds commands with tagged arguments, string lists, test lists and nested blocks', () => {
    const script = syntaxOnly(`
      if anyof (header :contains ["From", "Sender"] "boss", size :over 1M) {
        fileinto "work";
      } elsif not exists "x" { keep; } else { discard; }
    `);
    const [ifc, elsif, elsec] = script.commands;
    expect(ifc.name).toBe('if');
    expect(ifc.tests[0].name).toBe('anyof');
    expect(ifc.tests[0].tests.map((t) => t.name)).toEqual(['header', 'size']);
    expect(ifc.tests[0].tests[0].args).toMatchObject([
      { kind: 'tag', name: 'contains' },
      { kind: 'strings', values: ['From', 'Sender'], single: false },
      { kind: 'strings', values: ['boss'], single: true },
    ]);
    expect(ifc.tests[0].tests[1].args[1]).toMatchObject({ kind: 'number', value: 1024 * 1024 });
    expect(ifc.block![0].name).toBe('fileinto');
    expect(elsif.tests[0].tests[0].name).toBe('exists');
    expect(elsec.block![0].name).toBe('discard');
  });

  it('treats identifiers and tags case-insensitively', () => {
    const script = syntaxOnly('IF Header :IS "a" "b" { KEEP; }');
    expect(script.commands[0].name).toBe('if');
    expect(script.commands[0].tests[0].args[0]).toMatchObject({ kind: 'tag', name: 'is' });
  });

  it.each([
    ['keep', 'line 1:5: expected ";" or "{" after command "keep" but found end of script'],
    ['if true { keep;', 'line 1:16: missing "}" at the end of a block'],
    ['keep; }', 'line 1:7: unexpected "}" with no block open'],
    ['if header ["a", ] "b" {}', 'line 1:17: expected a string in a string list but found "]"'],
    ['if anyof (true, false {}', 'line 1:23: expected "," or ")" in a test list but found "{"'],
    ['"x";', 'line 1:1: expected a command name but found a string'],
    ['if ("x") {}', 'line 1:5: expected a test name but found a string'],
    ['keep @;', 'line 1:6: unexpected character "@"'],
  ])('reports %j with line:column', (text, message) => {
    expect(errorOf(() => syntaxOnly(text)).message).toBe(message);
  });

  it('refuses nesting beyond the configured depth, and a script over the size limit', () => {
    const deep = `${'if true {'.repeat(5)}keep;${'}'.repeat(5)}`;
    expect(() => parseSieve(deep, { validate: false, limits: { maxNestingDepth: 10 } })).not.toThrow();
    expect(errorOf(() => parseSieve(deep, { validate: false, limits: { maxNestingDepth: 4 } })).reason).toMatch(/nesting deeper than the limit of 4/);
    const nestedTests = `if ${'not '.repeat(40)}true { keep; }`;
    expect(errorOf(() => parseSieve(nestedTests, { validate: false })).reason).toMatch(/nesting deeper/);
    expect(errorOf(() => parseSieve('keep;'.repeat(100), { limits: { maxScriptSize: 50 } })).reason).toMatch(/larger than the limit of 50 bytes/);
  });

  it('parses a hostile deeply nested list quickly without overflowing the stack', () => {
    const started = Date.now();
    expect(() => parseSieve('if '.repeat(100_000), { validate: false })).toThrow(SieveError);
    expect(() => parseSieve('['.repeat(100_000), { validate: false })).toThrow(SieveError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
