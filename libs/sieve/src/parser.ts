/** The grammar of RFC 5228 §8.2 over the lexer's tokens: commands, arguments, tests, test lists and blocks. */
import type { SieveArgument, SieveCommand, SieveScript, SieveTest, StringListArgument } from './ast';
import { type Token, tokenize } from './lexer';
import { syntaxError, validationError } from './sieve-error';
import type { SieveLimits } from './settings';
import { resolveLimits } from './settings';

export interface ParseOptions {
  limits?: Partial<SieveLimits>;
}

export function parseTokens(text: string, options: ParseOptions = {}): SieveScript {
  const limits = resolveLimits(options.limits);
  if (Buffer.byteLength(text, 'utf8') > limits.maxScriptSize) {
    throw validationError(`script is larger than the limit of ${limits.maxScriptSize} bytes`);
  }
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token => tokens[at];
  const next = (): Token => tokens[at++];
  const isPunct = (t: Token, p: string) => t.kind === 'punct' && t.text === p;
  const describe = (t: Token) => (t.kind === 'eof' ? 'end of script' : t.kind === 'string' ? 'a string' : `"${t.kind === 'tag' ? ':' : ''}${t.text}"`);
  const expect = (p: string, what: string) => {
    const t = next();
    if (!isPunct(t, p)) throw syntaxError(`expected ${what} but found ${describe(t)}`, t.position);
  };

  const commands = parseCommands(0, true);
  return { commands, requires: new Set(), validated: false };

  function checkDepth(depth: number, t: Token) {
    if (depth > limits.maxNestingDepth) throw syntaxError(`nesting deeper than the limit of ${limits.maxNestingDepth}`, t.position);
  }

  function parseCommands(depth: number, topLevel: boolean): SieveCommand[] {
    const list: SieveCommand[] = [];
    for (;;) {
      const t = peek();
      if (t.kind === 'eof') {
        if (!topLevel) throw syntaxError('missing "}" at the end of a block', t.position);
        return list;
      }
      if (isPunct(t, '}')) {
        if (topLevel) throw syntaxError('unexpected "}" with no block open', t.position);
        return list;
      }
      list.push(parseCommand(depth));
    }
  }

  function parseCommand(depth: number): SieveCommand {
    const t = next();
    if (t.kind !== 'identifier') throw syntaxError(`expected a command name but found ${describe(t)}`, t.position);
    const { args, tests } = parseArguments(depth);
    const end = next();
    if (isPunct(end, ';')) return { name: t.text, args, tests, block: null, position: t.position };
    if (isPunct(end, '{')) {
      checkDepth(depth + 1, end);
      const block = parseCommands(depth + 1, false);
      expect('}', '"}"');
      return { name: t.text, args, tests, block, position: t.position };
    }
    throw syntaxError(`expected ";" or "{" after command "${t.text}" but found ${describe(end)}`, end.position);
  }

  function parseArguments(depth: number): { args: SieveArgument[]; tests: SieveTest[] } {
    const args: SieveArgument[] = [];
    for (;;) {
      const t = peek();
      if (t.kind === 'tag') {
        next();
        args.push({ kind: 'tag', name: t.text, position: t.position });
      } else if (t.kind === 'number') {
        next();
        args.push({ kind: 'number', value: t.value!, position: t.position });
      } else if (t.kind === 'string' || isPunct(t, '[')) {
        args.push(parseStringList());
      } else break;
    }
    const t = peek();
    if (t.kind === 'identifier') {
      checkDepth(depth + 1, t);
      return { args, tests: [parseTest(depth + 1)] };
    }
    if (isPunct(t, '(')) {
      next();
      checkDepth(depth + 1, t);
      const tests = [parseTest(depth + 1)];
      for (;;) {
        const sep = next();
        if (isPunct(sep, ')')) break;
        if (!isPunct(sep, ',')) throw syntaxError(`expected "," or ")" in a test list but found ${describe(sep)}`, sep.position);
        tests.push(parseTest(depth + 1));
      }
      return { args, tests };
    }
    return { args, tests: [] };
  }

  function parseTest(depth: number): SieveTest {
    const t = next();
    if (t.kind !== 'identifier') throw syntaxError(`expected a test name but found ${describe(t)}`, t.position);
    const { args, tests } = parseArguments(depth);
    return { name: t.text, args, tests, position: t.position };
  }

  function parseStringList(): StringListArgument {
    const t = next();
    if (t.kind === 'string') return { kind: 'strings', values: [t.text], single: true, position: t.position };
    const values: string[] = [];
    for (;;) {
      const s = next();
      if (s.kind !== 'string') throw syntaxError(`expected a string in a string list but found ${describe(s)}`, s.position);
      values.push(s.text);
      const sep = next();
      if (isPunct(sep, ']')) break;
      if (!isPunct(sep, ',')) throw syntaxError(`expected "," or "]" in a string list but found ${describe(sep)}`, sep.position);
    }
    return { kind: 'strings', values, single: false, position: t.position };
  }
}
