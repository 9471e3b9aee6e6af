/**
 * Runs the Sieve scripts of one mailbox for one message, in order global → domain → mailbox, and merges what they
 * decided into one list of actions for local delivery to carry out.
 *
 * How the levels combine (Pigeonhole's sieve_before/sieve_after sequence, plus `final`):
 * - every script sees the message as the previous levels left it (editheader);
 * - a script that keeps the implicit keep hands the message on to the next level; one that cancels it (fileinto,
 *   redirect, discard, reject, an explicit keep) has disposed of the message, and the lower levels do not run;
 * - `stop` ends its own script; in a script marked `final` (global or domain) `stop` or any explicit action also
 *   ends the sequence, so an operator's or domain's rule cannot be undone by a user's script;
 * - a script that fails (parse or runtime error) counts as implicit keep, is logged, and the sequence goes on:
 *   an error never loses mail;
 * - the limits (actions, redirects) count for the message across all levels.
 */
import type { ActiveSieveScript, SieveLevel } from '../ports/sieve-script-store';
import type { SieveScript } from '@dizi/sieve/ast';
import { DEFAULT_EXTENSIONS, KNOWN_EXTENSIONS } from '@dizi/sieve/extensions';
import type { SieveAction, SieveHeaderField, SieveMessage } from '@dizi/sieve/message';
import { parseSieve, runSieve } from '@dizi/sieve/sieve';

/** Added to a message a Sieve script redirects: the next time it reaches the same mailbox, its redirects are refused. */
export const SIEVE_REDIRECT_HEADER = 'X-Dizi-Sieve-Redirected';

/** Which extensions a level may use: editheader only in the operator's and domains' scripts. */
export const sieveExtensionsFor = (level: SieveLevel): readonly string[] => (level === 'mailbox' ? DEFAULT_EXTENSIONS : KNOWN_EXTENSIONS);

export interface SieveRunLimits {
  maxActions: number;
  maxRedirects: number;
  maxScriptSize: number;
}

export interface SieveRunContext {
  message: SieveMessage;
  /** Every address of the mailbox (vacation answers only mail sent to one of them). */
  userAddresses: string[];
  mailboxExists: (name: string) => boolean;
  limits: SieveRunLimits;
  now?: () => Date;
  /** Scripts `include` may name (RFC 6609): `personal`, the including script's owner's; `global`, the operator's. */
  includes?: (script: ActiveSieveScript) => { personal: ReadonlyMap<string, string>; global: ReadonlyMap<string, string> };
}

export interface SieveDecision {
  /** Explicit actions of every level that ran, then the implicit keep when it is still in effect. */
  actions: SieveAction[];
  /** Scripts that failed, "<level> script "<name>": <error>" (each counted as implicit keep). */
  errors: string[];
  /** Why an action was left out (vacation to a list, ...). */
  notes: string[];
  /** The header fields as editheader left them, when an admin script changed them. */
  headers?: SieveHeaderField[];
  /** "<level>:<name>" of the scripts that ran, for the log. */
  ran: string[];
}

interface Parsed {
  version: number;
  size: number;
  script?: SieveScript;
  error?: string;
}

export class SieveFilter {
  /** Parsed scripts by id, dropped when the script changes (updatedAt); scripts are parsed once, not per message. */
  private readonly cache = new Map<string, Parsed>();

  constructor(private readonly maxCached = 10_000) {}

  private parsed(s: ActiveSieveScript, limits: SieveRunLimits): Parsed {
    const version = s.updatedAt.getTime();
    const hit = this.cache.get(s.id);
    if (hit && hit.version === version && hit.size === limits.maxScriptSize) return hit;
    let entry: Parsed;
    try {
      entry = { version, size: limits.maxScriptSize, script: parseSieve(s.content, { extensions: sieveExtensionsFor(s.level), limits: { maxScriptSize: limits.maxScriptSize } }) };
    } catch (err) {
      if (!(err instanceof Error) || err.name !== 'SieveError') throw err;
      entry = { version, size: limits.maxScriptSize, error: err.message };
    }
    if (this.cache.size >= this.maxCached) this.cache.clear();
    this.cache.set(s.id, entry);
    return entry;
  }

  /** Whether one of these scripts tests the body (the caller then reads and decodes the message for it). */
  needsBody(scripts: ActiveSieveScript[], limits: SieveRunLimits): boolean {
    return scripts.some((s) => this.parsed(s, limits).script?.requires.has('body') ?? false);
  }

  /** The scripts that `include` others (the caller loads what they may include). */
  including(scripts: ActiveSieveScript[], limits: SieveRunLimits): ActiveSieveScript[] {
    return scripts.filter((s) => this.parsed(s, limits).script?.requires.has('include') ?? false);
  }

  run(scripts: ActiveSieveScript[], ctx: SieveRunContext): SieveDecision {
    const decision: SieveDecision = { actions: [], errors: [], notes: [], ran: [] };
    let actionsLeft = ctx.limits.maxActions;
    let redirectsLeft = ctx.limits.maxRedirects;
    let keepFlags: string[] | null = [];
    let headers: SieveHeaderField[] | undefined;
    for (const s of scripts) {
      const label = `${s.level} script "${s.name}"`;
      const parsed = this.parsed(s, ctx.limits);
      if (!parsed.script) {
        decision.errors.push(`${label}: ${parsed.error}`);
        continue;
      }
      decision.ran.push(`${s.level}:${s.name}`);
      const result = runSieve(parsed.script, headers ? { ...ctx.message, headers } : ctx.message, {
        limits: { maxActions: Math.max(actionsLeft, 0), maxRedirects: Math.max(redirectsLeft, 0), maxScriptSize: ctx.limits.maxScriptSize },
        extensions: sieveExtensionsFor(s.level),
        userAddresses: ctx.userAddresses,
        mailboxExists: ctx.mailboxExists,
        now: ctx.now,
        // Nothing is remembered between messages yet: every id is new.
        duplicate: () => false,
        loadScript: (name, location) => {
          const sources = ctx.includes?.(s);
          return (location === 'global' ? sources?.global : sources?.personal)?.get(name) ?? null;
        },
      });
      decision.notes.push(...result.notes.map((n) => `${label}: ${n}`));
      if (result.errors.length > 0) {
        decision.errors.push(...result.errors.map((e) => `${label}: ${e}`));
        continue;
      }
      if (result.headers) headers = result.headers;
      const implicit = result.actions.find((a) => a.type === 'keep' && a.implicit);
      const explicit = result.actions.filter((a) => a !== implicit);
      decision.actions.push(...explicit);
      actionsLeft -= explicit.length;
      redirectsLeft -= explicit.filter((a) => a.type === 'redirect').length;
      if (!implicit) {
        keepFlags = null;
        break;
      }
      keepFlags = implicit.type === 'keep' ? implicit.flags : [];
      if (s.final && (result.stopped || explicit.length > 0)) break;
    }
    if (keepFlags !== null) decision.actions.push({ type: 'keep', flags: keepFlags, implicit: true });
    if (headers) decision.headers = headers;
    return decision;
  }
}
