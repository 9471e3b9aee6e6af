// ManageSieve's script port over the delivery lib's SieveScriptStore (a mailbox's own scripts, level `mailbox`).
import {
  SieveScriptActiveError, SieveScriptExistsError, SieveScriptNotFoundError, type SieveScriptStore,
} from '@dizi/delivery/ports/sieve-script-store';
import { ScriptStoreError, type ManageSieveStore, type ScriptEntry } from '@dizi/managesieve/ports';

export class MailboxSieveScripts implements ManageSieveStore {
  constructor(private readonly scripts: SieveScriptStore) {}

  private static mapped<T>(work: Promise<T>): Promise<T> {
    return work.catch((err: unknown) => {
      if (err instanceof SieveScriptNotFoundError) throw new ScriptStoreError('NONEXISTENT', `Script "${err.scriptName}" does not exist.`);
      if (err instanceof SieveScriptExistsError) throw new ScriptStoreError('ALREADYEXISTS', `A script named "${err.scriptName}" exists already.`);
      if (err instanceof SieveScriptActiveError) throw new ScriptStoreError('ACTIVE', 'Cannot delete the active Sieve script.');
      throw err;
    });
  }

  async list(mailboxId: string): Promise<ScriptEntry[]> {
    return (await this.scripts.list({ level: 'mailbox', mailboxId })).map((s) => ({ name: s.name, active: s.active }));
  }

  async get(mailboxId: string, name: string): Promise<string | null> {
    return (await this.scripts.get({ level: 'mailbox', mailboxId }, name))?.content ?? null;
  }

  async put(mailboxId: string, name: string, content: string): Promise<void> {
    await this.scripts.put({ level: 'mailbox', mailboxId }, name, content);
  }

  setActive(mailboxId: string, name: string | null): Promise<void> {
    return MailboxSieveScripts.mapped(this.scripts.setActive({ level: 'mailbox', mailboxId }, name));
  }

  rename(mailboxId: string, from: string, to: string): Promise<void> {
    return MailboxSieveScripts.mapped(this.scripts.rename({ level: 'mailbox', mailboxId }, from, to));
  }

  delete(mailboxId: string, name: string): Promise<void> {
    return MailboxSieveScripts.mapped(this.scripts.delete({ level: 'mailbox', mailboxId }, name));
  }
}
