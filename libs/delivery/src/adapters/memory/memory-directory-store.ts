/** DirectoryStore in process memory, with the PostgreSQL adapter's answers, for fast unit tests of delivery logic. */
import { domainOfAddress } from '@dizi/domain/address';
import { randomUUID } from 'node:crypto';
import type { PostingPolicy } from '@dizi/domain/group-posting';
import type {
  DirectoryDomain, DirectoryGroup, DirectoryMailbox, DirectorySnapshot, DirectoryStore, MailboxDeliverySettings, SendingDomain,
  TransportRoute,
} from '../../ports/directory-store';

export const NO_DELIVERY_SETTINGS: MailboxDeliverySettings = {
  forwardTo: [], forwardKeepCopy: true, autoReplyEnabled: false, autoReplySubject: '', autoReplyBody: '',
  autoReplyStartsAt: null, autoReplyEndsAt: null,
};

export class MemoryDirectoryStore implements DirectoryStore {
  private readonly domains = new Map<string, DirectoryDomain>();
  private readonly mailboxes = new Map<string, DirectoryMailbox>();
  private readonly groups = new Map<string, DirectoryGroup>();
  private readonly aliases = new Map<string, { destinations: string[]; enabled: boolean }>();
  private readonly settings = new Map<string, MailboxDeliverySettings>();
  private readonly sending = new Map<string, SendingDomain>();
  private readonly transports = new Map<string, TransportRoute>();
  /** mailbox id → special use → folder id. */
  private readonly folders = new Map<string, Map<string, string>>();
  /** Round trips answered, so tests can tell a prefetched walk from one that asks per address. */
  calls = 0;

  // Fixtures -----------------------------------------------------------------------------------------------------

  addDomain(name: string, status = 'active'): this {
    this.domains.set(name, { name, status });
    return this;
  }

  /** How a hosted domain sends (HELO name, DKIM key); a domain added without it sends with the node's name, unsigned. */
  setSendingDomain(name: string, o: Partial<Omit<SendingDomain, 'name'>>): void {
    this.sending.set(name, { id: `domain:${name}`, name, heloName: null, dkimSelector: 'dizi', dkimPrivateKey: null, tenantId: 'tenant', ...o });
  }

  addTransportRoute(domain: string, route: TransportRoute): void {
    this.transports.set(domain, route);
  }

  addMailbox(address: string, o: { displayName?: string; status?: string; id?: string; settings?: Partial<MailboxDeliverySettings> } = {}): DirectoryMailbox {
    const mb: DirectoryMailbox = { id: o.id ?? randomUUID(), address, displayName: o.displayName ?? '', status: o.status ?? 'active' };
    this.mailboxes.set(address, mb);
    if (o.settings) this.settings.set(mb.id, { ...NO_DELIVERY_SETTINGS, ...o.settings });
    return mb;
  }

  setMailboxStatus(address: string, status: string): void {
    const mb = this.mailboxes.get(address);
    if (mb) mb.status = status;
  }

  setDeliverySettings(mailboxId: string, settings: Partial<MailboxDeliverySettings>): void {
    this.settings.set(mailboxId, { ...(this.settings.get(mailboxId) ?? NO_DELIVERY_SETTINGS), ...settings });
  }

  addAlias(address: string, destinations: string[], enabled = true): this {
    this.aliases.set(address, { destinations, enabled });
    return this;
  }

  addGroup(address: string, members: string[], o: { postingPolicy?: PostingPolicy; allowedSenders?: string[]; keepCopy?: boolean; rewriteRecipient?: boolean } = {}): DirectoryGroup {
    const g: DirectoryGroup = {
      id: randomUUID(), address, postingPolicy: o.postingPolicy ?? 'anyone', allowedSenders: o.allowedSenders ?? [],
      keepCopy: o.keepCopy ?? false, rewriteRecipient: o.rewriteRecipient ?? false, members,
    };
    this.groups.set(address, g);
    return g;
  }

  addSpecialUseFolder(mailboxId: string, specialUse: string, folderId: string = randomUUID()): string {
    const byUse = this.folders.get(mailboxId) ?? new Map<string, string>();
    byUse.set(specialUse, folderId);
    this.folders.set(mailboxId, byUse);
    return folderId;
  }

  // DirectoryStore -----------------------------------------------------------------------------------------------

  async lookupMany(addresses: string[], domains: string[], aliasAddresses: string[]): Promise<DirectorySnapshot> {
    this.calls += 1;
    const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;
    return {
      domains: domains.map((d) => this.domains.get(d)).filter(present).map((d) => ({ ...d })),
      groups: addresses.map((a) => this.groups.get(a)).filter(present).map((g) => ({ ...g, members: [...g.members] })),
      mailboxes: addresses.map((a) => this.mailboxes.get(a)).filter(present)
        .map((m) => ({ ...m, settings: this.copyOfSettings(m.id) })),
      aliases: aliasAddresses.flatMap((a) => {
        const alias = this.aliases.get(a);
        return alias?.enabled ? [{ address: a, destinations: [...alias.destinations] }] : [];
      }),
    };
  }

  async domain(name: string): Promise<DirectoryDomain | null> {
    this.calls += 1;
    const d = this.domains.get(name);
    return d ? { ...d } : null;
  }

  async group(address: string): Promise<DirectoryGroup | null> {
    this.calls += 1;
    const g = this.groups.get(address);
    return g ? { ...g, members: [...g.members] } : null;
  }

  async mailbox(address: string): Promise<DirectoryMailbox | null> {
    this.calls += 1;
    const m = this.mailboxes.get(address);
    return m ? { ...m } : null;
  }

  async aliasDestinations(address: string): Promise<string[] | null> {
    this.calls += 1;
    const alias = this.aliases.get(address);
    return alias?.enabled ? [...alias.destinations] : null;
  }

  async deliverySettings(mailboxId: string): Promise<MailboxDeliverySettings | null> {
    this.calls += 1;
    return this.copyOfSettings(mailboxId);
  }

  async activeMailboxesOfDomain(domain: string): Promise<DirectoryMailbox[]> {
    this.calls += 1;
    if (this.domains.get(domain)?.status !== 'active') return [];
    return [...this.mailboxes.values()]
      .filter((m) => domainOfAddress(m.address) === domain && m.status === 'active')
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
      .map((m) => ({ ...m }));
  }

  async localDomains(names: string[]): Promise<Set<string>> {
    this.calls += 1;
    return new Set(names.filter((n) => this.domains.has(n)));
  }

  async specialUseFolders(mailboxIds: string[], specialUse: string): Promise<Map<string, string>> {
    this.calls += 1;
    const out = new Map<string, string>();
    for (const id of mailboxIds) {
      const folder = this.folders.get(id)?.get(specialUse);
      if (folder) out.set(id, folder);
    }
    return out;
  }

  async sendingDomain(name: string): Promise<SendingDomain | null> {
    this.calls += 1;
    if (!this.domains.has(name)) return null;
    return { ...(this.sending.get(name) ?? { id: `domain:${name}`, name, heloName: null, dkimSelector: 'dizi', dkimPrivateKey: null, tenantId: 'tenant' }) };
  }

  async transportRoute(domain: string): Promise<TransportRoute | null> {
    this.calls += 1;
    const r = this.transports.get(domain);
    return r ? { ...r } : null;
  }

  private copyOfSettings(mailboxId: string): MailboxDeliverySettings | null {
    const s = this.settings.get(mailboxId);
    return s ? { ...s, forwardTo: [...s.forwardTo] } : null;
  }
}
