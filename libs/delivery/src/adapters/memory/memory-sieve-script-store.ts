/** SieveScriptStore in memory, for unit tests; the domain of a mailbox comes from the function given. */
import { randomUUID } from 'node:crypto';
import {
  SieveScriptActiveError, SieveScriptExistsError, SieveScriptNotFoundError, sieveScriptSize, type ActiveSieveScript, type SieveOwner,
  type SieveScriptInfo, type SieveScriptRecord, type SieveScriptStore,
} from '../../ports/sieve-script-store';

interface Stored extends SieveScriptRecord {
  owner: string;
  level: SieveOwner['level'];
}

const ownerKey = (o: SieveOwner): string => (o.level === 'global' ? 'global' : o.level === 'domain' ? `domain:${o.domainId}` : `mailbox:${o.mailboxId}`);
const infoOf = ({ id, name, active, final, size, updatedAt }: Stored): SieveScriptInfo => ({ id, name, active, final, size, updatedAt });

export class MemorySieveScriptStore implements SieveScriptStore {
  private readonly scripts: Stored[] = [];

  /** `domainOf(mailboxId)`: the domain id whose scripts run before the mailbox's (null: none). */
  constructor(private readonly domainOf: (mailboxId: string) => string | null = () => null, private readonly now: () => Date = () => new Date()) {}

  private find(owner: SieveOwner, name: string): Stored | undefined {
    const key = ownerKey(owner);
    return this.scripts.find((s) => s.owner === key && s.name === name);
  }

  async list(owner: SieveOwner): Promise<SieveScriptInfo[]> {
    const key = ownerKey(owner);
    return this.scripts.filter((s) => s.owner === key).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(infoOf);
  }

  async get(owner: SieveOwner, name: string): Promise<SieveScriptRecord | null> {
    const s = this.find(owner, name);
    return s ? { ...infoOf(s), content: s.content } : null;
  }

  async put(owner: SieveOwner, name: string, content: string, opts: { final?: boolean } = {}): Promise<SieveScriptInfo> {
    const final = owner.level === 'mailbox' ? false : opts.final;
    const existing = this.find(owner, name);
    if (existing) {
      Object.assign(existing, { content, size: sieveScriptSize(content), updatedAt: this.now(), final: final ?? existing.final });
      return infoOf(existing);
    }
    const s: Stored = {
      id: randomUUID(), owner: ownerKey(owner), level: owner.level, name, content, size: sieveScriptSize(content), active: false,
      final: final ?? false, updatedAt: this.now(),
    };
    this.scripts.push(s);
    return infoOf(s);
  }

  async setActive(owner: SieveOwner, name: string | null): Promise<void> {
    const target = name === null ? null : this.find(owner, name);
    if (name !== null && !target) throw new SieveScriptNotFoundError(name);
    const key = ownerKey(owner);
    for (const s of this.scripts) if (s.owner === key) s.active = s === target;
  }

  async rename(owner: SieveOwner, from: string, to: string): Promise<void> {
    const s = this.find(owner, from);
    if (!s) throw new SieveScriptNotFoundError(from);
    if (from === to) return;
    if (this.find(owner, to)) throw new SieveScriptExistsError(to);
    s.name = to;
    s.updatedAt = this.now();
  }

  async delete(owner: SieveOwner, name: string): Promise<void> {
    const s = this.find(owner, name);
    if (!s) throw new SieveScriptNotFoundError(name);
    if (s.active) throw new SieveScriptActiveError(name);
    this.scripts.splice(this.scripts.indexOf(s), 1);
  }

  async contents(owner: SieveOwner): Promise<Map<string, string>> {
    const key = ownerKey(owner);
    return new Map(this.scripts.filter((s) => s.owner === key).map((s) => [s.name, s.content]));
  }

  async activeScripts(mailboxIds: string[]): Promise<Map<string, ActiveSieveScript[]>> {
    const active = (key: string) => this.scripts.find((s) => s.owner === key && s.active);
    const out = new Map<string, ActiveSieveScript[]>();
    for (const id of mailboxIds) {
      const domainId = this.domainOf(id);
      const found = [active('global'), domainId ? active(`domain:${domainId}`) : undefined, active(`mailbox:${id}`)]
        .filter((s): s is Stored => !!s)
        .map(({ id: scriptId, level, name, content, final, updatedAt }) => ({
          id: scriptId, level, ownerId: level === 'global' ? null : level === 'domain' ? domainId : id, name, content, final, updatedAt,
        }));
      if (found.length > 0) out.set(id, found);
    }
    return out;
  }
}
