/**
 * Simple rules over Sieve (issue 18): the consoles' condition/action form as data, written as a Sieve script by
 * `rulesToSieve`, and read back by `sieveToRules`. Reading back is exact or nothing: a script is shown as rules only
 * when writing those rules again gives the very same text; any other script (edited by hand, made elsewhere) comes
 * back as `{ kind: 'code' }` so the consoles show it in the code editor and never rewrite it silently.
 *
 * The generated script: a marker line, one `require`, then per rule a `# rule: "<name>"` comment line and an `if`
 * whose test is `anyof(…)`/`allof(…)` of the conditions. A disabled rule keeps its conditions behind `allof (false, …)`
 * so it stays in the script, in its place, and is read back as disabled. Two things are normalised as they are
 * written: flags come first (they apply to the actions after them) and a reject is followed by `stop`.
 */
import type { SieveArgument, SieveCommand, SieveTest, StringListArgument } from './ast';
import { parseSieve } from './sieve';

export const RULES_MARKER = '# Dizi rules v1: written by the rules form; edit here and it is kept as code.';

export type RuleField = 'from' | 'to' | 'subject' | 'body' | 'size';
export type RuleOperator = 'contains' | 'is' | 'matches' | 'over' | 'under';

export interface RuleCondition {
  field: RuleField;
  /** contains/is/matches for text fields; over/under for size. */
  op: RuleOperator;
  /** Text to compare, or for size a number of bytes with an optional K, M or G. */
  value: string;
  /** The condition is met when the comparison fails. */
  not?: boolean;
}

export type RuleAction =
  | { type: 'reject'; reason: string }
  | { type: 'fileinto'; folder: string }
  | { type: 'redirect'; address: string; keepCopy: boolean }
  | { type: 'vacation'; days: number; subject: string; reason: string }
  | { type: 'flag'; flag: 'seen' | 'flagged' }
  | { type: 'discard' }
  | { type: 'stop' };

export interface SieveRule {
  name: string;
  enabled: boolean;
  match: 'any' | 'all';
  conditions: RuleCondition[];
  actions: RuleAction[];
}

export type ReadBack = { kind: 'rules'; rules: SieveRule[] } | { kind: 'code'; reason: string };

/** A rule the form may not save: which rule, which part, what to fix. */
export class RuleError extends Error {
  constructor(
    readonly rule: number,
    readonly field: string,
    reason: string,
  ) {
    super(`rule ${rule + 1}: ${field}: ${reason}`);
    this.name = 'RuleError';
  }
}

const TEXT_OPS = new Set<RuleOperator>(['contains', 'is', 'matches']);
const SIZE = /^([0-9]{1,10})([KMG]?)$/i;
const FLAGS = { seen: '\\Seen', flagged: '\\Flagged' } as const;
const MAX_VACATION_DAYS = 365;

/** The Sieve script for these rules, in order; throws a RuleError naming the first thing to fix. */
export function rulesToSieve(rules: SieveRule[]): string {
  rules.forEach(check);
  const requires = new Set<string>();
  const body: string[] = [];
  for (const rule of rules) {
    const tests = rule.conditions.map((c) => conditionSieve(c, requires));
    let test = tests.length === 0 ? 'true' : `${rule.match === 'all' ? 'allof' : 'anyof'} (${tests.join(', ')})`;
    if (!rule.enabled) test = `allof (false, ${test})`;
    body.push(`# rule: ${JSON.stringify(rule.name)}`, `if ${test} {`, ...flagsFirst(rule.actions).map((a) => `  ${actionSieve(a, requires)}`), '}');
  }
  const head = [RULES_MARKER];
  if (requires.size > 0) head.push(`require [${[...requires].sort().map(quote).join(', ')}];`);
  return [...head, ...body].join('\n') + '\n';
}

/** The rules a script was made from, or `code` when it is not exactly what `rulesToSieve` writes. */
export function sieveToRules(text: string): ReadBack {
  const normalised = text.replace(/\r\n/g, '\n');
  if (normalised.trim() === '') return { kind: 'rules', rules: [] };
  if (!normalised.startsWith(`${RULES_MARKER}\n`)) return { kind: 'code', reason: 'not written by the rules form' };
  let script;
  try {
    script = parseSieve(normalised, { validate: false });
  } catch (error) {
    return { kind: 'code', reason: error instanceof Error ? error.message : String(error) };
  }
  const lines = normalised.split('\n');
  const rules: SieveRule[] = [];
  try {
    for (const command of script.commands) {
      if (command.name === 'require') continue;
      if (command.name !== 'if' || !command.block) throw new Shape(`${command.name} outside a rule`);
      rules.push(readRule(command, lines[command.position.line - 2] ?? ''));
    }
  } catch (error) {
    if (error instanceof Shape) return { kind: 'code', reason: error.message };
    throw error;
  }
  let again: string;
  try {
    again = rulesToSieve(rules);
  } catch (error) {
    if (error instanceof RuleError) return { kind: 'code', reason: error.message };
    throw error;
  }
  // Exact or nothing: spacing, comments, order of require — any difference keeps the script as code.
  return again === normalised ? { kind: 'rules', rules } : { kind: 'code', reason: 'edited by hand since the rules form wrote it' };
}

function check(rule: SieveRule, i: number): void {
  if (rule.name.trim() === '' || rule.name.length > 100 || /[\r\n]/.test(rule.name)) throw new RuleError(i, 'name', 'give the rule a name of 1–100 characters on one line');
  if (rule.match !== 'any' && rule.match !== 'all') throw new RuleError(i, 'match', 'choose any or all');
  if (rule.actions.length === 0) throw new RuleError(i, 'actions', 'add at least one action');
  rule.conditions.forEach((c, j) => {
    const where = `conditions[${j}]`;
    if (c.field === 'size') {
      if (c.op !== 'over' && c.op !== 'under') throw new RuleError(i, where, 'a size is compared with over or under');
      if (!SIZE.test(c.value) || !Number.isSafeInteger(parseSize(c.value))) throw new RuleError(i, where, 'a size is a whole number with an optional K, M or G, e.g. 500K');
    } else {
      if (!['from', 'to', 'subject', 'body'].includes(c.field)) throw new RuleError(i, where, `unknown field ${String(c.field)}`);
      if (!TEXT_OPS.has(c.op)) throw new RuleError(i, where, 'text is compared with contains, is or matches');
      if (c.value === '') throw new RuleError(i, where, 'enter the text to compare');
    }
  });
  rule.actions.forEach((a, j) => {
    const where = `actions[${j}]`;
    if (a.type === 'fileinto' && a.folder.trim() === '') throw new RuleError(i, where, 'choose the folder to move to');
    if (a.type === 'redirect' && !/^[^\s@"]+@[^\s@"]+\.[^\s@"]+$/.test(a.address)) throw new RuleError(i, where, 'enter the address to forward to, e.g. name@example.com');
    if (a.type === 'vacation' && (!Number.isInteger(a.days) || a.days < 1 || a.days > MAX_VACATION_DAYS)) throw new RuleError(i, where, `days between replies is 1–${MAX_VACATION_DAYS}`);
    if (a.type === 'vacation' && a.reason.trim() === '') throw new RuleError(i, where, 'enter the reply text');
    if (a.type === 'flag' && !(a.flag in FLAGS)) throw new RuleError(i, where, 'flag is seen or flagged');
    if (a.type === 'reject' && j !== rule.actions.length - 1) throw new RuleError(i, where, 'reject refuses the message: it is the last action of its rule');
    if (a.type === 'stop' && j !== rule.actions.length - 1) throw new RuleError(i, where, 'stop comes last: actions after it never run');
  });
}

/**
 * imap4flags' addflag changes the flags of the actions after it only (RFC 5232 §3): "move to X and mark read" is
 * written flag first, so the message is filed read. Read back, the rule lists its flags first.
 */
function flagsFirst(actions: RuleAction[]): RuleAction[] {
  return [...actions.filter((a) => a.type === 'flag'), ...actions.filter((a) => a.type !== 'flag')];
}

function conditionSieve(c: RuleCondition, requires: Set<string>): string {
  let test: string;
  if (c.field === 'size') test = `size :${c.op} ${formatSize(parseSize(c.value))}`;
  else if (c.field === 'body') {
    requires.add('body');
    test = `body :text :${c.op} ${quote(c.value)}`;
  } else if (c.field === 'subject') test = `header :${c.op} "subject" ${quote(c.value)}`;
  else test = `address :all :${c.op} ${c.field === 'from' ? '"from"' : '["to", "cc"]'} ${quote(c.value)}`;
  return c.not ? `not ${test}` : test;
}

function actionSieve(a: RuleAction, requires: Set<string>): string {
  switch (a.type) {
    case 'reject':
      requires.add('reject');
      // A refused message is done with: no later rule may add an action that conflicts with it (vacation, RFC 5230 §4.7).
      return `reject ${quote(a.reason)};\n  stop;`;
    case 'fileinto':
      requires.add('fileinto');
      requires.add('mailbox');
      return `fileinto :create ${quote(a.folder)};`;
    case 'redirect':
      if (a.keepCopy) requires.add('copy');
      return `redirect ${a.keepCopy ? ':copy ' : ''}${quote(a.address)};`;
    case 'vacation':
      requires.add('vacation');
      return `vacation :days ${a.days} :subject ${quote(a.subject)} ${quote(a.reason)};`;
    case 'flag':
      requires.add('imap4flags');
      return `addflag ${quote(FLAGS[a.flag])};`;
    case 'discard':
      return 'discard;';
    case 'stop':
      return 'stop;';
  }
}

/** A generated script's shape did not hold: the script is shown as code. */
class Shape extends Error {}

function readRule(command: SieveCommand, nameLine: string): SieveRule {
  const named = /^# rule: (".*")$/.exec(nameLine);
  if (!named) throw new Shape(`line ${command.position.line}: rule without its name line`);
  let name: unknown;
  try {
    name = JSON.parse(named[1]);
  } catch {
    throw new Shape(`line ${command.position.line - 1}: rule name is not a quoted string`);
  }
  if (typeof name !== 'string') throw new Shape('rule name');
  let [test] = command.tests;
  let enabled = true;
  if (test?.name === 'allof' && test.tests.length === 2 && test.tests[0].name === 'false') {
    enabled = false;
    test = test.tests[1];
  }
  let match: 'any' | 'all' = 'any';
  let conditions: RuleCondition[] = [];
  if (test?.name === 'anyof' || test?.name === 'allof') {
    match = test.name === 'allof' ? 'all' : 'any';
    conditions = test.tests.map(readCondition);
  } else if (test?.name !== 'true') throw new Shape(`line ${command.position.line}: unexpected test`);
  const block = command.block ?? [];
  // The stop written after a reject belongs to the reject.
  const commands = block.filter((c, i) => !(c.name === 'stop' && i === block.length - 1 && block[i - 1]?.name === 'reject'));
  return { name, enabled, match, conditions, actions: commands.map(readAction) };
}

function readCondition(test: SieveTest): RuleCondition {
  if (test.name === 'not' && test.tests.length === 1) return { ...readCondition(test.tests[0]), not: true };
  const tags = test.args.filter((a) => a.kind === 'tag').map((a) => a.name);
  const rest = test.args.filter((a) => a.kind !== 'tag');
  const op = tags.find((t): t is RuleOperator => ['contains', 'is', 'matches', 'over', 'under'].includes(t));
  if (!op) throw new Shape(`line ${test.position.line}: ${test.name} without a comparison the form offers`);
  if (test.name === 'size' && rest[0]?.kind === 'number') return { field: 'size', op, value: formatSize(rest[0].value) };
  if (test.name === 'body') return { field: 'body', op, value: one(rest[0]) };
  if (test.name === 'header') return { field: 'subject', op, value: one(rest[1]) };
  if (test.name === 'address') {
    const fields = strings(rest[0]);
    return { field: fields.length === 1 && fields[0] === 'from' ? 'from' : 'to', op, value: one(rest[1]) };
  }
  throw new Shape(`line ${test.position.line}: test ${test.name}`);
}

function readAction(command: SieveCommand): RuleAction {
  const tags = command.args.filter((a) => a.kind === 'tag').map((a) => a.name);
  const rest = command.args.filter((a) => a.kind !== 'tag');
  switch (command.name) {
    case 'reject':
      return { type: 'reject', reason: one(rest[0]) };
    case 'fileinto':
      return { type: 'fileinto', folder: one(rest[0]) };
    case 'redirect':
      return { type: 'redirect', address: one(rest[0]), keepCopy: tags.includes('copy') };
    case 'vacation': {
      const days = command.args.findIndex((a) => a.kind === 'tag' && a.name === 'days');
      const subject = command.args.findIndex((a) => a.kind === 'tag' && a.name === 'subject');
      const n = command.args[days + 1];
      return { type: 'vacation', days: n?.kind === 'number' ? n.value : 0, subject: one(command.args[subject + 1]), reason: one(command.args.at(-1)) };
    }
    case 'addflag': {
      const flag = one(rest[0]);
      const key = (Object.keys(FLAGS) as (keyof typeof FLAGS)[]).find((k) => FLAGS[k] === flag);
      if (!key) throw new Shape(`line ${command.position.line}: flag ${flag}`);
      return { type: 'flag', flag: key };
    }
    case 'discard':
      return { type: 'discard' };
    case 'stop':
      return { type: 'stop' };
    default:
      throw new Shape(`line ${command.position.line}: action ${command.name}`);
  }
}

function strings(arg: SieveArgument | undefined): string[] {
  if (arg?.kind !== 'strings') throw new Shape('expected a string');
  return (arg as StringListArgument).values;
}

function one(arg: SieveArgument | undefined): string {
  const values = strings(arg);
  if (values.length !== 1) throw new Shape('expected one string');
  return values[0];
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function parseSize(value: string): number {
  const m = SIZE.exec(value);
  if (!m) return 0;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * unit;
}

/** Bytes as Sieve writes them, with the largest exact quantifier (RFC 5228 §2.4.1). */
export function formatSize(bytes: number): string {
  for (const [unit, n] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes > 0 && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return String(bytes);
}
