/**
 * Runs a validated script over one message (RFC 5228 §2.10): control flow, tests, and the action list with implicit
 * keep, duplicate merging and conflicts. A runtime error discards every action but the implicit keep.
 */
import { createHash } from 'node:crypto';
import type { NumberArgument, ResolvedArguments, SieveCommand, SieveScript, SieveTest, StringListArgument } from './ast';
import { isValidAddress, parseAddressList, splitAddress, splitSubaddress } from './address';
import { datePart, parseRfc5322Date, zoneMinutes } from './dates';
import { type ComparatorName, type MatchSpec, type MatchType, type RelationalOperator, asciiLower, matchOne, matchValues } from './match';
import type { DuplicateCheck, IncludeLocation, SieveAction, SieveEnvironment, SieveHeaderField, SieveMessage, SieveResult } from './message';
import { parseTokens } from './parser';
import { type SieveLimits, resolveLimits } from './settings';
import { SieveError, runtimeError } from './sieve-error';
import { validateScript } from './validator';
import { applyModifiers, expandVariables } from './variables';

class StopSignal {}
class ReturnSignal {}

interface Scope {
  script: SieveScript;
  variables: Map<string, string>;
  /** Names this script declared with `global` (RFC 6609 §3.4). */
  globalNames: Set<string>;
}

const PROTECTED_HEADERS = new Set(['received', 'auto-submitted']);

export function runScript(script: SieveScript, message: SieveMessage, env: SieveEnvironment = {}): SieveResult {
  if (!script.validated) throw new Error('runSieve needs a validated script (parseSieve validates by default)');
  return new Run(message, env).execute(script);
}

class Run {
  private readonly limits: SieveLimits;
  private actions: SieveAction[] = [];
  private implicitKeep = true;
  private flags: string[] = [];
  private matchVariables: string[] = [];
  private readonly globals = new Map<string, string>();
  private headers: SieveHeaderField[];
  private headersEdited = false;
  private readonly includeStack: string[] = [];
  private readonly included = new Set<string>();
  private readonly duplicates: DuplicateCheck[] = [];
  private readonly notes: string[] = [];
  private vacationDone = false;
  private stopped = false;

  constructor(
    private readonly message: SieveMessage,
    private readonly env: SieveEnvironment,
  ) {
    this.limits = resolveLimits(env.limits);
    this.headers = message.headers.map((h) => ({ ...h }));
  }

  execute(script: SieveScript): SieveResult {
    try {
      try {
        this.runBlock(script.commands, this.newScope(script));
      } catch (signal) {
        if (!(signal instanceof StopSignal) && !(signal instanceof ReturnSignal)) throw signal;
        if (signal instanceof StopSignal) this.stopped = true;
      }
      if (this.implicitKeep) {
        // RFC 5228 §4.2: never store twice into INBOX; an explicit "fileinto :copy "INBOX"" takes the implicit keep's flags too.
        const inbox = this.actions.find((a) => a.type === 'keep' || (a.type === 'fileinto' && isInbox(a.mailbox)));
        if (inbox && (inbox.type === 'keep' || inbox.type === 'fileinto')) inbox.flags = normalizeFlags([...inbox.flags, ...this.flags]);
        else this.actions.push({ type: 'keep', flags: [...this.flags], implicit: true });
      }
      return {
        actions: this.actions,
        errors: [],
        headers: this.headersEdited ? this.headers : undefined,
        duplicates: this.duplicates,
        notes: this.notes,
        stopped: this.stopped,
      };
    } catch (error) {
      if (!(error instanceof SieveError)) throw error;
      return { actions: [{ type: 'keep', flags: [], implicit: true }], errors: [error.message], duplicates: [], notes: this.notes, stopped: false };
    }
  }

  private newScope(script: SieveScript): Scope {
    return { script, variables: new Map(), globalNames: new Set() };
  }

  private runBlock(commands: SieveCommand[], scope: Scope) {
    let chainTaken = false;
    for (const command of commands) {
      switch (command.name) {
        case 'if':
          chainTaken = this.test(command.tests[0], scope);
          if (chainTaken) this.runBlock(command.block!, scope);
          break;
        case 'elsif':
          if (chainTaken) break;
          chainTaken = this.test(command.tests[0], scope);
          if (chainTaken) this.runBlock(command.block!, scope);
          break;
        case 'else':
          if (!chainTaken) this.runBlock(command.block!, scope);
          break;
        default:
          this.command(command, scope);
      }
    }
  }

  // ---- strings and variables ----

  private str(arg: StringListArgument | NumberArgument | null | undefined, scope: Scope): string {
    if (!arg) return '';
    if (arg.kind === 'number') return String(arg.value);
    return this.expand(arg.values[0], scope);
  }

  private list(arg: StringListArgument | NumberArgument | null | undefined, scope: Scope): string[] {
    if (!arg) return [];
    if (arg.kind === 'number') return [String(arg.value)];
    return arg.values.map((v) => this.expand(v, scope));
  }

  private expand(text: string, scope: Scope): string {
    if (!scope.script.requires.has('variables')) return text;
    return expandVariables(text, (name) => this.readVariable(name, scope));
  }

  private readVariable(name: string, scope: Scope): string {
    if (/^[0-9]+$/.test(name)) return this.matchVariables[Number(name)] ?? '';
    const key = name.toLowerCase();
    if (key.startsWith('global.')) return this.globals.get(key.slice(7)) ?? '';
    if (scope.globalNames.has(key)) return this.globals.get(key) ?? '';
    return scope.variables.get(key) ?? '';
  }

  private writeVariable(name: string, value: string, scope: Scope, at: SieveCommand) {
    const chars = [...value];
    const bounded = chars.length > this.limits.maxVariableSize ? chars.slice(0, this.limits.maxVariableSize).join('') : value;
    let key = name.toLowerCase();
    let store = scope.variables;
    if (key.startsWith('global.')) {
      key = key.slice(7);
      store = this.globals;
    } else if (scope.globalNames.has(key)) store = this.globals;
    if (!store.has(key) && store.size >= this.limits.maxVariables) throw runtimeError(`more than ${this.limits.maxVariables} variables`, at.position);
    store.set(key, bounded);
  }

  // ---- tests ----

  private matchSpec(r: ResolvedArguments, scope: Scope): MatchSpec {
    const comparator = (r.tags.has('comparator') ? this.str(r.tags.get('comparator'), scope).toLowerCase() : 'i;ascii-casemap') as ComparatorName;
    const type = (['is', 'contains', 'matches', 'regex', 'count', 'value'] as MatchType[]).find((t) => r.tags.has(t)) ?? 'is';
    const relation = type === 'count' || type === 'value' ? (this.str(r.tags.get(type), scope).toLowerCase() as RelationalOperator) : undefined;
    return { comparator, type, relation };
  }

  private compare(values: string[], keys: string[], spec: MatchSpec, test: SieveTest): boolean {
    let outcome;
    try {
      outcome = matchValues(values, keys, spec);
    } catch (error) {
      throw runtimeError(`${test.name}: ${(error as Error).message}`, test.position);
    }
    if (outcome.matched && outcome.captures) this.matchVariables = outcome.captures;
    return outcome.matched;
  }

  /** Header values by lower-cased name, built on first use and dropped when editheader changes the fields. */
  private headerIndex: Map<string, string[]> | null = null;

  /** Parsed address lists by header value: many rules test the same From and To. */
  private readonly addressLists = new Map<string, string[]>();

  private addresses(value: string): string[] {
    let list = this.addressLists.get(value);
    if (!list) this.addressLists.set(value, (list = parseAddressList(value)));
    return list;
  }

  private headerValues(name: string, r?: ResolvedArguments): string[] {
    if (!this.headerIndex) {
      this.headerIndex = new Map();
      for (const h of this.headers) {
        const k = asciiLower(h.name);
        const list = this.headerIndex.get(k);
        if (list) list.push(h.value);
        else this.headerIndex.set(k, [h.value]);
      }
    }
    const values = this.headerIndex.get(asciiLower(name)) ?? [];
    const index = r?.tags.get('index') as NumberArgument | undefined;
    if (!index) return values;
    const picked = r!.tags.has('last') ? values[values.length - index.value] : values[index.value - 1];
    return picked === undefined ? [] : [picked];
  }

  private test(test: SieveTest, scope: Scope): boolean {
    const r = test.resolved!;
    switch (test.name) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return !this.test(test.tests[0], scope);
      case 'allof':
        return test.tests.every((t) => this.test(t, scope));
      case 'anyof':
        return test.tests.some((t) => this.test(t, scope));
      case 'exists':
        return this.list(r.positional[0], scope).every((name) => this.headerValues(name).length > 0);
      case 'size': {
        const limit = (r.positional[0] as NumberArgument).value;
        return r.tags.has('over') ? this.message.size > limit : this.message.size < limit;
      }
      case 'header': {
        const values = this.list(r.positional[0], scope).flatMap((n) => this.headerValues(n, r));
        return this.compare(values, this.list(r.positional[1], scope), this.matchSpec(r, scope), test);
      }
      case 'address': {
        const addresses = this.list(r.positional[0], scope).flatMap((n) => this.headerValues(n, r).flatMap((v) => this.addresses(v)));
        return this.compare(this.addressParts(addresses, r), this.list(r.positional[1], scope), this.matchSpec(r, scope), test);
      }
      case 'envelope': {
        const values: string[] = [];
        for (const part of this.list(r.positional[0], scope)) {
          const p = part.toLowerCase();
          const value = p === 'from' ? this.message.envelope.from : p === 'to' ? this.message.envelope.to : p === 'auth' ? this.message.envelope.auth : undefined;
          if (value === undefined) continue;
          // RFC 5228 §5.4: the null reverse-path matches as the empty string whatever the address part.
          if (value === '') values.push('');
          else values.push(...this.addressParts([value], r));
        }
        return this.compare(values, this.list(r.positional[1], scope), this.matchSpec(r, scope), test);
      }
      case 'body': {
        if (!this.message.body) throw runtimeError('the body test is not available for this message', test.position);
        const transform = r.tags.has('raw')
          ? ({ kind: 'raw' } as const)
          : r.tags.has('content')
            ? ({ kind: 'content', types: this.list(r.tags.get('content'), scope) } as const)
            : ({ kind: 'text' } as const);
        return this.compare(this.message.body(transform), this.list(r.positional[0], scope), this.matchSpec(r, scope), test);
      }
      case 'string': {
        const spec = this.matchSpec(r, scope);
        let values = this.list(r.positional[0], scope);
        // RFC 5229 §5: empty strings are not counted.
        if (spec.type === 'count') values = values.filter((v) => v !== '');
        return this.compare(values, this.list(r.positional[1], scope), spec, test);
      }
      case 'hasflag': {
        const names = r.positional.length === 2 ? this.list(r.positional[0], scope) : null;
        const flags = names ? names.flatMap((n) => splitFlags(this.readVariable(n, scope))) : this.flags;
        return this.compare(flags, this.list(r.positional[r.positional.length - 1], scope), this.matchSpec(r, scope), test);
      }
      case 'date':
      case 'currentdate':
        return this.dateTest(test, r, scope);
      case 'mailboxexists': {
        const check = this.env.mailboxExists;
        return !!check && this.list(r.positional[0], scope).every((name) => check(name));
      }
      case 'duplicate':
        return this.duplicateTest(r, scope);
      default:
        throw runtimeError(`test "${test.name}" is not implemented`, test.position);
    }
  }

  private addressParts(addresses: string[], r: ResolvedArguments): string[] {
    const out: string[] = [];
    const separator = this.env.subaddressSeparator ?? '+';
    for (const address of addresses) {
      const parts = splitAddress(address);
      if (r.tags.has('localpart')) out.push(parts.localpart);
      else if (r.tags.has('domain')) out.push(parts.domain);
      else if (r.tags.has('user')) out.push(splitSubaddress(parts.localpart, separator).user);
      else if (r.tags.has('detail')) {
        const detail = splitSubaddress(parts.localpart, separator).detail;
        if (detail !== null) out.push(detail);
      } else out.push(parts.all);
    }
    return out;
  }

  private dateTest(test: SieveTest, r: ResolvedArguments, scope: Scope): boolean {
    const current = test.name === 'currentdate';
    let instant: { time: number; offset: number } | null;
    if (current) instant = { time: (this.env.now?.() ?? new Date()).getTime(), offset: 0 };
    else {
      // Without :index the first occurrence counts (RFC 5260 §4).
      const value = this.headerValues(this.str(r.positional[0], scope), r)[0];
      instant = value === undefined ? null : parseRfc5322Date(value);
    }
    // RFC 5260 §4: a missing or unparsable date makes the test false.
    if (!instant) return false;
    let offset = zoneMinutes(this.env.zone ?? '+0000') ?? 0;
    if (r.tags.has('zone')) {
      const zone = zoneMinutes(this.str(r.tags.get('zone'), scope));
      if (zone === null) throw runtimeError(`:zone needs an offset like "+0800"`, test.position);
      offset = zone;
    } else if (r.tags.has('originalzone')) offset = instant.offset;
    const part = this.str(r.positional[current ? 0 : 1], scope).toLowerCase();
    const value = datePart(instant.time, offset, part);
    if (!value) throw runtimeError(`unknown date part "${part}"`, test.position);
    return this.compare([value], this.list(r.positional[current ? 1 : 2], scope), this.matchSpec(r, scope), test);
  }

  private duplicateTest(r: ResolvedArguments, scope: Scope): boolean {
    let id: string | undefined;
    if (r.tags.has('uniqueid')) id = this.str(r.tags.get('uniqueid'), scope);
    else id = this.headerValues(r.tags.has('header') ? this.str(r.tags.get('header'), scope) : 'message-id')[0]?.trim();
    // RFC 7352 §3.1: without the header field there is nothing to track, and the test is false.
    if (!id) return false;
    const check: DuplicateCheck = {
      id,
      handle: this.str(r.tags.get('handle'), scope),
      seconds: (r.tags.get('seconds') as NumberArgument | undefined)?.value,
      last: r.tags.has('last'),
    };
    this.duplicates.push(check);
    return this.env.duplicate?.(check) ?? false;
  }

  // ---- commands ----

  private command(command: SieveCommand, scope: Scope) {
    const r = command.resolved!;
    switch (command.name) {
      case 'require':
        return;
      case 'stop':
        throw new StopSignal();
      case 'return':
        throw new ReturnSignal();
      case 'keep':
        this.addAction({ type: 'keep', flags: r.tags.has('flags') ? normalizeFlags(this.list(r.tags.get('flags'), scope)) : [...this.flags], implicit: false }, command);
        return;
      case 'discard':
        this.implicitKeep = false;
        return;
      case 'fileinto': {
        const mailbox = this.str(r.positional[0], scope);
        if (!mailbox) throw runtimeError('fileinto needs a mailbox name', command.position);
        this.addAction(
          {
            type: 'fileinto',
            mailbox,
            flags: r.tags.has('flags') ? normalizeFlags(this.list(r.tags.get('flags'), scope)) : [...this.flags],
            create: r.tags.has('create'),
            copy: r.tags.has('copy'),
          },
          command,
        );
        return;
      }
      case 'redirect': {
        const address = this.str(r.positional[0], scope).trim();
        if (!isValidAddress(address)) throw runtimeError(`redirect needs a valid mail address, not "${address}"`, command.position);
        if (asciiLower(address) === asciiLower(this.message.envelope.to)) throw runtimeError(`redirect to the recipient itself (${address}) would loop`, command.position);
        this.addAction({ type: 'redirect', address, copy: r.tags.has('copy') }, command);
        return;
      }
      case 'reject':
      case 'ereject':
        this.addAction({ type: 'reject', reason: this.str(r.positional[0], scope), extended: command.name === 'ereject' }, command);
        return;
      case 'set': {
        const modifiers = new Set([...r.tags.keys()]);
        // The name is a constant (RFC 5229 §4): it is not expanded.
        this.writeVariable((r.positional[0] as StringListArgument).values[0], applyModifiers(this.str(r.positional[1], scope), modifiers), scope, command);
        return;
      }
      case 'setflag':
      case 'addflag':
      case 'removeflag':
        this.flagCommand(command, r, scope);
        return;
      case 'vacation':
        this.vacation(command, r, scope);
        return;
      case 'include':
        this.include(command, r, scope);
        return;
      case 'global':
        for (const name of (r.positional[0] as StringListArgument).values) scope.globalNames.add(name.toLowerCase());
        return;
      case 'addheader':
      case 'deleteheader':
        this.editHeader(command, r, scope);
        return;
      default:
        throw runtimeError(`command "${command.name}" is not implemented`, command.position);
    }
  }

  private addAction(action: SieveAction, command: SieveCommand) {
    const hasReject = this.actions.some((a) => a.type === 'reject');
    // RFC 5429 §2.1 and RFC 5230 §4.7: reject does not combine with delivering, forwarding or answering the message.
    if (action.type === 'reject' ? this.actions.length > 0 : hasReject) {
      const other = action.type === 'reject' ? this.actions[0].type : 'reject';
      throw runtimeError(`"${command.name}" cannot be combined with "${other}"`, command.position);
    }
    if (action.type === 'redirect') {
      if (this.actions.some((a) => a.type === 'redirect' && asciiLower(a.address) === asciiLower(action.address))) {
        if (!action.copy) this.implicitKeep = false;
        return;
      }
      if (this.actions.filter((a) => a.type === 'redirect').length >= this.limits.maxRedirects) {
        throw runtimeError(`more than ${this.limits.maxRedirects} redirects`, command.position);
      }
    }
    // RFC 5228 §4.2/§4.4: keeping or filing into the same mailbox twice stores the message once.
    const target = (a: SieveAction) => (a.type === 'keep' ? 'INBOX' : a.type === 'fileinto' ? (isInbox(a.mailbox) ? 'INBOX' : a.mailbox) : null);
    const same = target(action) === null ? undefined : this.actions.find((a) => target(a) === target(action));
    if (same && (same.type === 'keep' || same.type === 'fileinto') && (action.type === 'keep' || action.type === 'fileinto')) {
      same.flags = normalizeFlags([...same.flags, ...action.flags]);
    } else {
      if (this.actions.length >= this.limits.maxActions) throw runtimeError(`more than ${this.limits.maxActions} actions`, command.position);
      this.actions.push(action);
    }
    const cancelsKeep = action.type === 'keep' || action.type === 'reject' || ((action.type === 'fileinto' || action.type === 'redirect') && !action.copy);
    if (cancelsKeep) this.implicitKeep = false;
  }

  private flagCommand(command: SieveCommand, r: ResolvedArguments, scope: Scope) {
    const named = r.positional.length === 2 ? this.str(r.positional[0], scope) : null;
    const given = normalizeFlags(this.list(r.positional[r.positional.length - 1], scope));
    const current = named === null ? this.flags : splitFlags(this.readVariable(named, scope));
    let next: string[];
    if (command.name === 'setflag') next = given;
    else if (command.name === 'addflag') next = normalizeFlags([...current, ...given]);
    else {
      const drop = new Set(given.map(asciiLower));
      next = current.filter((f) => !drop.has(asciiLower(f)));
    }
    if (named === null) this.flags = next;
    else this.writeVariable(named, next.join(' '), scope, command);
  }

  private vacation(command: SieveCommand, r: ResolvedArguments, scope: Scope) {
    if (this.vacationDone) throw runtimeError('only one vacation action per message', command.position);
    this.vacationDone = true;
    const reason = this.str(r.positional[0], scope);
    const subjectArg = r.tags.has('subject') ? this.str(r.tags.get('subject'), scope) : undefined;
    const from = r.tags.has('from') ? this.str(r.tags.get('from'), scope) : undefined;
    const addresses = this.list(r.tags.get('addresses'), scope);
    const mime = r.tags.has('mime');
    const handle =
      r.tags.has('handle')
        ? this.str(r.tags.get('handle'), scope)
        : createHash('sha256').update(JSON.stringify([reason, subjectArg ?? null, from ?? null, mime])).digest('hex').slice(0, 32);
    let periodSeconds: number;
    if (r.tags.has('seconds')) periodSeconds = Math.min((r.tags.get('seconds') as NumberArgument).value, this.limits.vacationMaxDays * 86_400);
    else {
      const days = r.tags.has('days') ? (r.tags.get('days') as NumberArgument).value : 7;
      periodSeconds = Math.min(Math.max(days, this.limits.vacationMinDays), this.limits.vacationMaxDays) * 86_400;
    }
    const skip = this.vacationSuppressed(addresses);
    if (skip) {
      this.notes.push(`vacation not sent: ${skip}`);
      return;
    }
    const original = this.headerValues('subject')[0] ?? '';
    const subject = subjectArg ?? `Auto: ${original}`.trim();
    this.addAction({ type: 'vacation', to: this.message.envelope.from, reason, subject, from, mime, handle, periodSeconds }, command);
  }

  /** RFC 5230 §4.5-4.6 and RFC 3834: never answer the null sender, lists, bulk or automatic mail, or mail not sent to us. */
  private vacationSuppressed(addresses: string[]): string | null {
    const sender = this.message.envelope.from;
    if (!sender) return 'null sender';
    const local = asciiLower(splitAddress(sender).localpart);
    if (local === 'mailer-daemon' || local.startsWith('owner-') || local.endsWith('-request')) return 'sender is a mailing list or daemon';
    const autoSubmitted = this.headerValues('auto-submitted')[0];
    if (autoSubmitted && asciiLower(autoSubmitted.trim()) !== 'no') return 'message is auto-submitted';
    if (this.headers.some((h) => asciiLower(h.name).startsWith('list-'))) return 'message comes from a list';
    const precedence = asciiLower(this.headerValues('precedence')[0] ?? '').trim();
    if (['bulk', 'list', 'junk'].includes(precedence)) return `precedence ${precedence}`;
    const own = new Set([this.message.envelope.to, ...(this.env.userAddresses ?? []), ...addresses].map(asciiLower));
    if (own.has(asciiLower(sender))) return 'sender is the recipient';
    const recipients = ['to', 'cc', 'bcc', 'resent-to', 'resent-cc', 'resent-bcc'].flatMap((n) => this.headerValues(n).flatMap(parseAddressList)).map(asciiLower);
    if (!recipients.some((a) => own.has(a))) return 'recipient not named in To/Cc/Bcc';
    return null;
  }

  private include(command: SieveCommand, r: ResolvedArguments, scope: Scope) {
    const name = this.str(r.positional[0], scope);
    if (!name || /[/\\]/.test(name)) throw runtimeError(`include needs a script name without "/", not "${name}"`, command.position);
    const location: IncludeLocation = r.tags.has('global') ? 'global' : 'personal';
    const key = `${location}:${name}`;
    if (this.includeStack.includes(key)) throw runtimeError(`include loop: ${[...this.includeStack, key].join(' → ')}`, command.position);
    if (r.tags.has('once') && this.included.has(key)) return;
    if (this.includeStack.length >= this.limits.maxIncludeDepth) throw runtimeError(`includes nested deeper than ${this.limits.maxIncludeDepth}`, command.position);
    if (!this.included.has(key) && this.included.size >= this.limits.maxIncludes) throw runtimeError(`more than ${this.limits.maxIncludes} included scripts`, command.position);
    const loaded = this.env.loadScript?.(name, location) ?? null;
    if (loaded === null) {
      if (r.tags.has('optional')) return;
      throw runtimeError(`included ${location} script "${name}" does not exist`, command.position);
    }
    let script: SieveScript;
    try {
      script = typeof loaded === 'string' ? validateScript(parseTokens(loaded, { limits: this.env.limits }), { extensions: this.env.extensions }) : loaded;
    } catch (error) {
      if (error instanceof SieveError) throw runtimeError(`included ${location} script "${name}": ${error.message}`, command.position);
      throw error;
    }
    if (!script.validated) validateScript(script, { extensions: this.env.extensions });
    this.included.add(key);
    this.includeStack.push(key);
    try {
      this.runBlock(script.commands, this.newScope(script));
    } catch (signal) {
      if (!(signal instanceof ReturnSignal)) throw signal;
    } finally {
      this.includeStack.pop();
    }
  }

  private editHeader(command: SieveCommand, r: ResolvedArguments, scope: Scope) {
    const field = this.str(r.positional[0], scope);
    if (PROTECTED_HEADERS.has(asciiLower(field))) {
      this.notes.push(`${command.name} ignored for protected header ${field}`);
      return;
    }
    if (command.name === 'addheader') {
      const value = this.str(r.positional[1], scope);
      if (/[\0\r\n]/.test(value)) throw runtimeError('addheader value must not contain line breaks', command.position);
      if (r.tags.has('last')) this.headers.push({ name: field, value });
      else this.headers.unshift({ name: field, value });
      this.headersEdited = true;
      this.headerIndex = null;
      return;
    }
    const key = asciiLower(field);
    const occurrences = this.headers.map((h, i) => ({ h, i })).filter(({ h }) => asciiLower(h.name) === key);
    let targets = occurrences;
    if (r.tags.has('index')) {
      const n = (r.tags.get('index') as NumberArgument).value;
      const picked = r.tags.has('last') ? occurrences[occurrences.length - n] : occurrences[n - 1];
      targets = picked && n > 0 ? [picked] : [];
    }
    if (r.positional.length > 1) {
      const keys = this.list(r.positional[1], scope);
      const spec = this.matchSpec(r, scope);
      targets = targets.filter(({ h }) => keys.some((k) => matchOne(h.value, k, spec).matched));
    }
    if (!targets.length) return;
    const drop = new Set(targets.map((t) => t.i));
    this.headers = this.headers.filter((_, i) => !drop.has(i));
    this.headersEdited = true;
    this.headerIndex = null;
  }
}

const isInbox = (mailbox: string) => asciiLower(mailbox) === 'inbox';

const splitFlags = (value: string) => value.split(/\s+/).filter(Boolean);

/** Flags are space-separated words; the same flag twice (case-insensitively) is kept once (RFC 5232 §3). */
function normalizeFlags(values: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const flag of values.flatMap(splitFlags)) {
    const key = asciiLower(flag);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(flag);
    }
  }
  return out;
}
