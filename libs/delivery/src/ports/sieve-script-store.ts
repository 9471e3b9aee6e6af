/**
 * Sieve scripts at three levels (global, domain, mailbox): what the API, ManageSieve and delivery ask of storage.
 * Adapters: adapters/postgres/pg-sieve-script-store.ts and adapters/memory/memory-sieve-script-store.ts. Validation
 * (the parser) and the limits (size, number of scripts) are the callers' (sieve-scripts.ts), not the store's.
 */
export type SieveLevel = 'global' | 'domain' | 'mailbox';

/** Whose scripts: the operator's (global), a domain's, or a mailbox's. */
export type SieveOwner = { level: 'global' } | { level: 'domain'; domainId: string } | { level: 'mailbox'; mailboxId: string };

export interface SieveScriptInfo {
  id: string;
  name: string;
  active: boolean;
  final: boolean;
  /** Octets of UTF-8. */
  size: number;
  updatedAt: Date;
}

export interface SieveScriptRecord extends SieveScriptInfo {
  content: string;
}

/** An active script delivery runs, with what identifies its version (for the parsed-script cache). */
export interface ActiveSieveScript {
  id: string;
  level: SieveLevel;
  /** Whose script it is: the domain or mailbox id; null for global. */
  ownerId: string | null;
  name: string;
  content: string;
  final: boolean;
  updatedAt: Date;
}

export class SieveScriptNotFoundError extends Error {
  constructor(readonly scriptName: string) {
    super(`no script named ${JSON.stringify(scriptName)}`);
    this.name = 'SieveScriptNotFoundError';
  }
}

export class SieveScriptExistsError extends Error {
  constructor(readonly scriptName: string) {
    super(`a script named ${JSON.stringify(scriptName)} exists already`);
    this.name = 'SieveScriptExistsError';
  }
}

/** Deleting the active script is refused (RFC 5804 §2.10: deactivate it first). */
export class SieveScriptActiveError extends Error {
  constructor(readonly scriptName: string) {
    super(`script ${JSON.stringify(scriptName)} is active: deactivate it first`);
    this.name = 'SieveScriptActiveError';
  }
}

export interface SieveScriptStore {
  /** Sorted by name. */
  list(owner: SieveOwner): Promise<SieveScriptInfo[]>;
  get(owner: SieveOwner, name: string): Promise<SieveScriptRecord | null>;
  /** Creates or replaces the content (`final` only where the level allows it; undefined keeps the stored value). */
  put(owner: SieveOwner, name: string, content: string, opts?: { final?: boolean }): Promise<SieveScriptInfo>;
  /** Makes `name` the owner's active script (null: none active). SieveScriptNotFoundError. */
  setActive(owner: SieveOwner, name: string | null): Promise<void>;
  /** SieveScriptNotFoundError, SieveScriptExistsError. */
  rename(owner: SieveOwner, from: string, to: string): Promise<void>;
  /** SieveScriptNotFoundError, SieveScriptActiveError. */
  delete(owner: SieveOwner, name: string): Promise<void>;
  /** Every script of an owner, name → content (for `include`, which may name scripts that are not active). */
  contents(owner: SieveOwner): Promise<Map<string, string>>;
  /** Per mailbox, the active scripts delivery runs, in order: global, the mailbox's domain, the mailbox. */
  activeScripts(mailboxIds: string[]): Promise<Map<string, ActiveSieveScript[]>>;
}

export const ownerOfScript = (s: Pick<ActiveSieveScript, 'level' | 'ownerId'>): SieveOwner =>
  s.level === 'global' ? { level: 'global' } : s.level === 'domain' ? { level: 'domain', domainId: s.ownerId! } : { level: 'mailbox', mailboxId: s.ownerId! };

export const sieveScriptSize = (content: string): number => Buffer.byteLength(content, 'utf8');
