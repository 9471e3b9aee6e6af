/** ManageSieveStore in memory, for the protocol tests. */
import { ScriptStoreError, type ManageSieveStore, type ScriptEntry } from '../src/ports';

export class MemoryScriptStore implements ManageSieveStore {
  readonly scripts = new Map<string, Map<string, { content: string; active: boolean }>>();

  private of(mailboxId: string) {
    let m = this.scripts.get(mailboxId);
    if (!m) this.scripts.set(mailboxId, (m = new Map()));
    return m;
  }

  async list(mailboxId: string): Promise<ScriptEntry[]> {
    return [...this.of(mailboxId)].map(([name, s]) => ({ name, active: s.active })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(mailboxId: string, name: string): Promise<string | null> {
    return this.of(mailboxId).get(name)?.content ?? null;
  }

  async put(mailboxId: string, name: string, content: string): Promise<void> {
    const m = this.of(mailboxId);
    m.set(name, { content, active: m.get(name)?.active ?? false });
  }

  async setActive(mailboxId: string, name: string | null): Promise<void> {
    const m = this.of(mailboxId);
    if (name !== null && !m.has(name)) throw new ScriptStoreError('NONEXISTENT', `Script "${name}" does not exist.`);
    for (const [n, s] of m) s.active = n === name;
  }

  async rename(mailboxId: string, from: string, to: string): Promise<void> {
    const m = this.of(mailboxId);
    const s = m.get(from);
    if (!s) throw new ScriptStoreError('NONEXISTENT', `Script "${from}" does not exist.`);
    if (from === to) return;
    if (m.has(to)) throw new ScriptStoreError('ALREADYEXISTS', `A script named "${to}" exists already.`);
    m.delete(from);
    m.set(to, s);
  }

  async delete(mailboxId: string, name: string): Promise<void> {
    const m = this.of(mailboxId);
    const s = m.get(name);
    if (!s) throw new ScriptStoreError('NONEXISTENT', `Script "${name}" does not exist.`);
    if (s.active) throw new ScriptStoreError('ACTIVE', 'Cannot delete the active Sieve script.');
    m.delete(name);
  }
}
