import { describe, expect, it } from 'vitest';
import { checkSieve, parseSieve, validate } from './sieve';

describe('Sieve validation: require (RFC 5228 §3.2)', () => {
  it('accepts a script whose extensions are all required', () => {
    expect(checkSieve('require ["fileinto", "copy"];\nfileinto :copy "a";')).toBeNull();
  });

  it('refuses a command of an extension that was not required, saying which require to add', () => {
    expect(checkSieve('fileinto "a";')).toBe('line 1:1: "fileinto" needs the "fileinto" extension: add require "fileinto";');
    expect(checkSieve('require "fileinto";\nfileinto :copy "a";')).toBe('line 2:10: ":copy" needs the "copy" extension: add require "copy";');
    expect(checkSieve('if header :regex "a" "b" {}')).toMatch(/":regex" needs the "regex" extension/);
  });

  it('refuses an unknown extension and editheader unless the caller enables it', () => {
    expect(checkSieve('require "x-unknown";')).toBe('line 1:9: unsupported extension "x-unknown"');
    expect(checkSieve('require "editheader";')).toMatch(/unsupported extension "editheader"/);
    expect(checkSieve('require "editheader";\naddheader "X-A" "1";', { extensions: ['editheader'] })).toBeNull();
  });

  it('refuses require after another command or inside a block', () => {
    expect(checkSieve('keep;\nrequire "fileinto";')).toBe('line 2:1: "require" must come before any other command');
    expect(checkSieve('if true { require "fileinto"; }')).toMatch(/must come before/);
  });

  it('refuses unknown commands and tests, and tests used as commands and the reverse', () => {
    expect(checkSieve('frobnicate;')).toBe('line 1:1: unknown command "frobnicate"');
    expect(checkSieve('if frob {}')).toBe('line 1:4: unknown test "frob"');
    expect(checkSieve('header "a" "b";')).toMatch(/is a test, not a command/);
    expect(checkSieve('if keep {}')).toMatch(/is a command, not a test/);
  });
});

describe('Sieve validation: argument shapes', () => {
  it.each([
    ['if header :is :contains "a" "b" {}', 'tags :is and :contains cannot be used together'],
    ['if address :all :domain "to" "b" {}', 'tags :all and :domain cannot be used together'],
    ['if size :over :under 1 {}', 'tags :over and :under cannot be used together'],
    ['if size 10 {}', '"size" needs one of :over or :under'],
    ['if size :over "10" {}', 'argument 1 of "size" must be a number'],
    ['if header :comparator "i;foo" "a" "b" {}', 'unknown comparator "i;foo"'],
    ['if header :comparator "i;ascii-numeric" "a" "b" {}', 'needs the "comparator-i;ascii-numeric" extension'],
    ['if header :comparator ["a","b"] "x" "y" {}', 'tag :comparator must be followed by a string'],
    ['if header "a" {}', '"header" takes 2 positional argument(s) (a string list, a string list), found 1'],
    ['if header "a" "b" :is {}', 'tag :is must come before the positional arguments'],
    ['redirect ["a@b.c", "d@e.f"];', 'argument 1 of "redirect" must be a string'],
    ['redirect "not an address";', 'redirect needs a valid mail address'],
    ['if true;', '"if" needs a block'],
    ['keep { }', '"keep" takes no block'],
    ['else { keep; }', '"else" must follow "if" or "elsif"'],
    ['if not (true, false) {}', '"not" takes exactly one test'],
    ['if true false {}', '"true" takes no test'],
    ['if header :over "a" "b" {}', '"header" has no tag :over'],
    ['require "relational"; if header :value "xx" "a" "b" {}', 'relational operator must be one of gt, ge, lt, le, eq, ne'],
    ['require ["comparator-i;ascii-numeric"]; if header :contains :comparator "i;ascii-numeric" "a" "1" {}', 'supports only :is'],
    ['require "regex"; if header :regex "a" "(" {}', 'invalid regular expression "("'],
    ['require "variables"; set "1abc" "x";', '"1abc" is not a valid variable name'],
    ['require "date"; if currentdate "fortnight" "1" {}', 'unknown date part "fortnight"'],
    ['require "date"; if currentdate :zone "CET" "hour" "1" {}', ':zone needs an offset like "+0800"'],
    ['require "envelope"; if envelope "subject" "x" {}', 'envelope part "subject" is not supported'],
    ['require "vacation"; vacation :days "3" "x";', 'tag :days must be followed by a number'],
    ['require "imap4flags"; setflag "flagvar" "\\\\Seen";', 'needs the "variables" extension'],
    ['require "imap4flags"; if hasflag "flagvar" "\\\\Seen" {}', 'needs the "variables" extension'],
    ['require ["variables", "relational"]; set :lower :upper "a" "b";', 'tags :lower and :upper cannot be used together'],
  ])('refuses %j', (script, message) => {
    expect(checkSieve(script)).toContain(message);
  });

  it('does not check constant-looking arguments that hold variables until run time', () => {
    expect(checkSieve('require ["variables"]; set "a" "b"; redirect "${a}";')).toBeNull();
    expect(checkSieve('require ["variables", "regex"]; if header :regex "a" "${x}(" {}')).toBeNull();
  });

  it('accepts optional leading and trailing positional arguments (setflag, hasflag, deleteheader)', () => {
    expect(checkSieve('require ["imap4flags", "variables"]; setflag "\\\\Seen"; setflag "v" "\\\\Seen"; if hasflag "v" "x" {}')).toBeNull();
    expect(checkSieve('require "editheader"; deleteheader "X-A"; deleteheader :index 1 :last "X-A" "v";', { extensions: ['editheader'] })).toBeNull();
    expect(checkSieve('require "editheader"; deleteheader :last "X-A";', { extensions: ['editheader'] })).toMatch(/:last needs :index/);
  });

  it('decodes encoded characters only when the extension is required (RFC 5228 §2.4.2.4)', () => {
    const on = parseSieve('require ["encoded-character", "fileinto"]; fileinto "${hex:49 4E 42 4f 58}${unicode:20AC}";');
    expect(on.commands[1].resolved!.positional[0]).toMatchObject({ values: ['INBOX€'] });
    const off = parseSieve('require "fileinto"; fileinto "${hex:41}";');
    expect(off.commands[1].resolved!.positional[0]).toMatchObject({ values: ['${hex:41}'] });
    // Validating twice does not decode twice.
    const twice = validate(parseSieve('require ["encoded-character", "fileinto"]; fileinto "${hex:24 7B}hex:41}";'));
    expect(twice.commands[1].resolved!.positional[0]).toMatchObject({ values: ['${hex:41}'] });
  });
});
