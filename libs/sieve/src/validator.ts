/**
 * Checks a parsed script against the command/test table: `require` first and only for known, enabled extensions
 * (RFC 5228 §3.2), each tag and positional argument of the right shape, constant arguments well-formed.
 */
import type { NumberArgument, ResolvedArguments, SieveArgument, SieveCommand, SieveScript, SieveTest, StringListArgument } from './ast';
import { type CommandSpec, COMMANDS, COMPARATORS, DATE_PARTS, DEFAULT_EXTENSIONS, KNOWN_EXTENSIONS, RELATIONAL_OPERATORS, TESTS } from './extensions';
import { isValidAddress } from './address';
import { type SourcePosition, validationError } from './sieve-error';
import { decodeEncodedCharacters } from './variables';
import { UnsafeRegexError, translateRegex } from './regex';

export interface ValidateOptions {
  /** Extensions this caller offers; a script requiring another is refused. Default: all but editheader. */
  extensions?: readonly string[];
}

const KNOWN = new Set<string>(KNOWN_EXTENSIONS);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateScript(script: SieveScript, options: ValidateOptions = {}): SieveScript {
  const enabled = new Set((options.extensions ?? DEFAULT_EXTENSIONS).map((e) => e.toLowerCase()));
  const requires = new Set<string>();
  let requireAllowed = true;
  // Encoded characters are decoded once: a second validation must not decode what the first produced.
  const decode = !script.validated;
  checkBlock(script.commands, true);
  script.requires = requires;
  script.validated = true;
  return script;

  function has(ext: string) {
    return requires.has(ext);
  }

  function checkBlock(commands: SieveCommand[], topLevel: boolean) {
    let previous: string | null = null;
    for (const command of commands) {
      if (command.name === 'require') {
        if (!topLevel || !requireAllowed) throw validationError('"require" must come before any other command', command.position);
      } else requireAllowed = false;
      if ((command.name === 'elsif' || command.name === 'else') && previous !== 'if' && previous !== 'elsif') {
        throw validationError(`"${command.name}" must follow "if" or "elsif"`, command.position);
      }
      checkCommand(command);
      previous = command.name;
    }
  }

  function checkCommand(command: SieveCommand) {
    const spec = COMMANDS[command.name];
    if (!spec) {
      if (TESTS[command.name]) throw validationError(`"${command.name}" is a test, not a command: use it inside "if"`, command.position);
      throw validationError(`unknown command "${command.name}"`, command.position);
    }
    if (spec.extension && !has(spec.extension)) throw missingRequire(command.name, spec.extension, command.position);
    decodeArguments(command.args);
    const resolved = resolveArguments(command.name, spec, command.args, command.position);
    command.resolved = resolved;
    checkTests(command.name, spec, command.tests, command.position);
    if (spec.block && command.block === null) throw validationError(`"${command.name}" needs a block: { ... }`, command.position);
    if (!spec.block && command.block !== null) throw validationError(`"${command.name}" takes no block: end it with ";"`, command.position);
    checkCommandArguments(command, resolved);
    if (command.block) checkBlock(command.block, false);
  }

  function checkTests(name: string, spec: CommandSpec, tests: SieveTest[], position: SourcePosition) {
    if (spec.tests === 'one' && tests.length !== 1) throw validationError(`"${name}" takes exactly one test`, position);
    if (spec.tests === 'list' && tests.length === 0) throw validationError(`"${name}" takes a test list: ( test, ... )`, position);
    if (!spec.tests && tests.length) throw validationError(`"${name}" takes no test`, position);
    for (const test of tests) checkTest(test);
  }

  function checkTest(test: SieveTest) {
    const spec = TESTS[test.name];
    if (!spec) {
      if (COMMANDS[test.name]) throw validationError(`"${test.name}" is a command, not a test`, test.position);
      throw validationError(`unknown test "${test.name}"`, test.position);
    }
    if (spec.extension && !has(spec.extension)) throw missingRequire(test.name, spec.extension, test.position);
    decodeArguments(test.args);
    const resolved = resolveArguments(test.name, spec, test.args, test.position);
    test.resolved = resolved;
    checkTests(test.name, spec, test.tests, test.position);
    checkTestArguments(test, resolved);
  }

  function decodeArguments(args: SieveArgument[]) {
    if (!decode || !has('encoded-character')) return;
    for (const arg of args) if (arg.kind === 'strings') arg.values = arg.values.map(decodeEncodedCharacters);
  }

  function missingRequire(name: string, extension: string, position: SourcePosition) {
    return validationError(`"${name}" needs the "${extension}" extension: add require "${extension}";`, position);
  }

  function resolveArguments(name: string, spec: CommandSpec, args: SieveArgument[], position: SourcePosition): ResolvedArguments {
    const tags = new Map<string, StringListArgument | NumberArgument | null>();
    const groups = new Map<string, string>();
    const positional: (StringListArgument | NumberArgument)[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (arg.kind !== 'tag') {
        positional.push(arg);
        continue;
      }
      if (positional.length) throw validationError(`tag :${arg.name} must come before the positional arguments of "${name}"`, arg.position);
      const tag = spec.tags[arg.name];
      if (!tag) throw validationError(`"${name}" has no tag :${arg.name}`, arg.position);
      if (tag.extension && !has(tag.extension)) throw missingRequire(`:${arg.name}`, tag.extension, arg.position);
      if (tags.has(arg.name)) throw validationError(`tag :${arg.name} appears twice`, arg.position);
      if (tag.group) {
        const other = groups.get(tag.group);
        if (other) throw validationError(`tags :${other} and :${arg.name} cannot be used together`, arg.position);
        groups.set(tag.group, arg.name);
      }
      if (!tag.arg) {
        tags.set(arg.name, null);
        continue;
      }
      const value = args[i + 1];
      if (!value || value.kind === 'tag' || !fits(value, tag.arg)) {
        throw validationError(`tag :${arg.name} must be followed by ${describeType(tag.arg)}`, arg.position);
      }
      tags.set(arg.name, value);
      i++;
    }
    for (const group of spec.requiredGroups ?? []) {
      if (!groups.has(group)) {
        const names = Object.entries(spec.tags).filter(([, t]) => t.group === group).map(([n]) => `:${n}`);
        throw validationError(`"${name}" needs one of ${names.join(' or ')}`, position);
      }
    }
    // Optional leading arguments are dropped from the front, optional trailing ones from the back.
    const types = [...spec.positional];
    const leading = Math.min(spec.optionalLeading ?? 0, Math.max(0, types.length - positional.length));
    types.splice(0, leading);
    const trailing = Math.min(spec.optionalTrailing ?? 0, Math.max(0, types.length - positional.length));
    types.splice(types.length - trailing, trailing);
    if (positional.length !== types.length) {
      throw validationError(`"${name}" takes ${types.length} positional argument(s) (${types.map(describeType).join(', ') || 'none'}), found ${positional.length}`, position);
    }
    types.forEach((type, k) => {
      if (!fits(positional[k], type)) throw validationError(`argument ${k + 1} of "${name}" must be ${describeType(type)}`, positional[k].position);
    });
    return { tags, positional };
  }

  function checkCommandArguments(command: SieveCommand, r: ResolvedArguments) {
    const at = command.position;
    switch (command.name) {
      case 'require':
        for (const ext of (r.positional[0] as StringListArgument).values) {
          const name = ext.toLowerCase();
          if (!KNOWN.has(name) || !enabled.has(name)) throw validationError(`unsupported extension "${ext}"`, r.positional[0].position);
          requires.add(name);
        }
        break;
      case 'redirect': {
        const address = str(r.positional[0]);
        if (isConstant(address) && !isValidAddress(address)) throw validationError(`redirect needs a valid mail address, not "${address}"`, r.positional[0].position);
        break;
      }
      case 'set': {
        const name = str(r.positional[0]);
        if (!isVariableName(name)) throw validationError(`"${name}" is not a valid variable name`, r.positional[0].position);
        break;
      }
      case 'setflag':
      case 'addflag':
      case 'removeflag':
      case 'global':
        if (r.positional.length === 2 || command.name === 'global') {
          if (!has('variables')) throw missingRequire(`${command.name} with a variable name`, 'variables', at);
          const names = (r.positional[0] as StringListArgument).values;
          for (const n of names) if (!isVariableName(n)) throw validationError(`"${n}" is not a valid variable name`, r.positional[0].position);
        }
        break;
      case 'vacation': {
        const from = r.tags.get('from');
        if (from && isConstant(str(from)) && !isValidAddress(str(from))) throw validationError(`vacation :from needs a valid mail address`, from.position);
        break;
      }
      case 'include': {
        const name = str(r.positional[0]);
        if (isConstant(name) && (name === '' || /[/\\]/.test(name))) throw validationError(`include needs a script name without "/"`, r.positional[0].position);
        break;
      }
      case 'deleteheader':
        if (r.tags.has('last') && !r.tags.has('index')) throw validationError(':last needs :index in "deleteheader"', at);
        checkMatch(command.name, r, at);
        break;
      case 'addheader': {
        const field = str(r.positional[0]);
        if (!/^[\x21-\x39\x3b-\x7e]+$/.test(field)) throw validationError(`"${field}" is not a valid header field name`, r.positional[0].position);
        break;
      }
    }
  }

  function checkTestArguments(test: SieveTest, r: ResolvedArguments) {
    const at = test.position;
    if (test.name in { address: 1, envelope: 1, header: 1, body: 1, string: 1, hasflag: 1, date: 1, currentdate: 1 }) checkMatch(test.name, r, at);
    if (test.name !== 'duplicate' && r.tags.has('last') && !r.tags.has('index')) throw validationError(`:last needs :index in "${test.name}"`, at);
    const index = r.tags.get('index');
    if (index && (index as NumberArgument).value < 1) throw validationError(':index counts from 1', index.position);
    if (test.name === 'hasflag' && r.positional.length === 2 && !has('variables')) throw missingRequire('hasflag with a variable list', 'variables', at);
    if (test.name === 'date' || test.name === 'currentdate') {
      const part = r.positional[test.name === 'date' ? 1 : 0] as StringListArgument;
      const p = part.values[0].toLowerCase();
      if (isConstant(p) && !(DATE_PARTS as readonly string[]).includes(p)) throw validationError(`unknown date part "${part.values[0]}" (one of ${DATE_PARTS.join(', ')})`, part.position);
      const zone = r.tags.get('zone');
      if (zone && isConstant(str(zone)) && !/^[+-]\d{4}$/.test(str(zone))) throw validationError(`:zone needs an offset like "+0800"`, zone.position);
    }
    if (test.name === 'envelope') {
      for (const part of (r.positional[0] as StringListArgument).values) {
        if (isConstant(part) && !['from', 'to', 'auth'].includes(part.toLowerCase())) throw validationError(`envelope part "${part}" is not supported (from, to, auth)`, r.positional[0].position);
      }
    }
  }

  function checkMatch(name: string, r: ResolvedArguments, at: SourcePosition) {
    const comparator = r.tags.get('comparator');
    const cmp = comparator ? str(comparator).toLowerCase() : 'i;ascii-casemap';
    if (comparator) {
      if (!(COMPARATORS as readonly string[]).includes(cmp)) throw validationError(`unknown comparator "${str(comparator)}"`, comparator.position);
      if (cmp === 'i;ascii-numeric' && !has('comparator-i;ascii-numeric')) throw missingRequire(`comparator "${cmp}"`, 'comparator-i;ascii-numeric', comparator.position);
    }
    const relation = r.tags.get('count') ?? r.tags.get('value');
    if (relation && !(RELATIONAL_OPERATORS as readonly string[]).includes(str(relation).toLowerCase())) {
      throw validationError(`relational operator must be one of ${RELATIONAL_OPERATORS.join(', ')}`, relation.position);
    }
    if (cmp === 'i;ascii-numeric' && (r.tags.has('contains') || r.tags.has('matches') || r.tags.has('regex'))) {
      throw validationError(`comparator i;ascii-numeric supports only :is, :value and :count in "${name}"`, at);
    }
    if (r.tags.has('regex')) {
      const keys = r.positional[r.positional.length - 1] as StringListArgument | undefined;
      for (const key of keys?.values ?? []) {
        if (!isConstant(key)) continue;
        try {
          translateRegex(key);
        } catch (error) {
          throw validationError(error instanceof UnsafeRegexError ? error.message : `invalid regular expression "${key}"`, keys!.position);
        }
      }
    }
  }

  function isConstant(s: string) {
    return !(has('variables') && s.includes('${'));
  }
}

function fits(arg: SieveArgument, type: 'string' | 'strings' | 'number'): boolean {
  if (type === 'number') return arg.kind === 'number';
  if (arg.kind !== 'strings') return false;
  return type === 'strings' || arg.single;
}

const describeType = (type: 'string' | 'strings' | 'number') => (type === 'number' ? 'a number' : type === 'string' ? 'a string' : 'a string list');
const str = (arg: StringListArgument | NumberArgument) => (arg.kind === 'strings' ? arg.values[0] : String(arg.value));

export function isVariableName(name: string): boolean {
  const parts = name.split('.');
  return parts.every((p) => IDENTIFIER.test(p)) && (parts.length === 1 || parts[0].toLowerCase() === 'global');
}
