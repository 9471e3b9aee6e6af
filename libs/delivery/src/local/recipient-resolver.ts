/**
 * Expands one local recipient into what it delivers to: mailboxes (with their forwarding), remote addresses, and
 * the reasons some destinations failed. Order of lookup for an address of a hosted domain: group, mailbox, alias,
 * then the domain's catch-all (`*@domain`). Every address is visited once per expansion, which ends alias and
 * forwarding cycles; a forward that points back into the chain keeps the copy in that mailbox instead.
 */
import { domainOfAddress } from '@dizi/domain/address';
import { mayPost } from '@dizi/domain/group-posting';
import { addressKey } from '@dizi/domain/lookup-key';
import type {
  DirectoryDomain, DirectoryGroup, DirectoryMailbox, DirectoryStore, MailboxDeliverySettings,
} from '../ports/directory-store';

export type { MailboxDeliverySettings } from '../ports/directory-store';

/** Deeper nesting of aliases, groups and forwards than this is treated as a loop. */
export const MAX_EXPANSION_DEPTH = 10;

export interface MailboxTarget {
  mailboxId: string;
  address: string;
  displayName: string;
  /** False when the mailbox forwards without keeping a copy. */
  store: boolean;
  /** Member address to put in the To header (a group with rewriteRecipient); null keeps the message as sent. */
  rewriteTo: string | null;
  /** Reached through a group: a list delivery, which never triggers an auto-reply (RFC 3834 §2). */
  viaGroup: boolean;
  settings: MailboxDeliverySettings | null;
}

export interface ExpansionFailure {
  address: string;
  /** Enhanced status code (RFC 3463). */
  status: string;
  reason: string;
}

export interface Expansion {
  mailboxes: Map<string, MailboxTarget>;
  remotes: Set<string>;
  failures: ExpansionFailure[];
}

export interface SenderIdentity {
  /** Envelope sender, lower case; empty for the null sender. */
  address: string;
  authenticated: boolean;
  isLocal: boolean;
  /** X-Loop values of the message: a mailbox named there does not forward it again. */
  xLoop: ReadonlySet<string>;
}

interface Via {
  fromGroup: boolean;
  rewrite: boolean;
}

/**
 * One resolver per delivery job (or batch of jobs): every lookup is cached for its lifetime, and `prefetch` loads what
 * the addresses of a whole batch need in one round trip, so the walk below usually asks the database nothing.
 */
export class RecipientResolver {
  private readonly domains = new Map<string, DirectoryDomain | null>();
  private readonly groups = new Map<string, DirectoryGroup | null>();
  private readonly mailboxes = new Map<string, DirectoryMailbox | null>();
  private readonly aliases = new Map<string, string[] | null>();
  private readonly settings = new Map<string, MailboxDeliverySettings | null>();

  constructor(private readonly directory: DirectoryStore) {}

  /**
   * Loads, for every address, its domain, group (with members), mailbox (with delivery settings), alias and its
   * domain's catch-all. Addresses reached later (alias destinations, members, forwards) are looked up as met.
   */
  async prefetch(addresses: Iterable<string>): Promise<void> {
    const keys = [...new Set([...addresses].filter(Boolean).map((a) => addressKey(a)))].filter((a) => !this.mailboxes.has(a));
    if (keys.length === 0) return;
    const domains = [...new Set(keys.map(domainOfAddress))];
    const aliasKeys = [...keys, ...domains.map((d) => `*@${d}`)];
    const r = await this.directory.lookupMany(keys, domains, aliasKeys);
    for (const d of domains) this.domains.set(d, null);
    for (const d of r.domains) this.domains.set(d.name, d);
    for (const k of keys) {
      this.groups.set(k, null);
      this.mailboxes.set(k, null);
    }
    for (const k of aliasKeys) this.aliases.set(k, null);
    for (const g of r.groups) this.groups.set(g.address, g);
    for (const a of r.aliases) this.aliases.set(a.address, a.destinations);
    for (const { settings, ...m } of r.mailboxes) {
      this.mailboxes.set(m.address, m);
      this.settings.set(m.id, settings);
    }
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    return (await this.domain(domain)) !== null;
  }

  async isLocalMailbox(address: string): Promise<boolean> {
    if (!address) return false;
    return (await this.mailbox(addressKey(address))) !== null;
  }

  async expand(address: string, sender: SenderIdentity): Promise<Expansion> {
    const out: Expansion = { mailboxes: new Map(), remotes: new Set(), failures: [] };
    const seen = new Map<string, string | null>();
    await this.walk(addressKey(address), 0, { fromGroup: false, rewrite: false }, sender, out, seen);
    return out;
  }

  private async domain(name: string): Promise<DirectoryDomain | null> {
    if (!this.domains.has(name)) this.domains.set(name, await this.directory.domain(name));
    return this.domains.get(name)!;
  }

  private async group(address: string): Promise<DirectoryGroup | null> {
    if (!this.groups.has(address)) this.groups.set(address, await this.directory.group(address));
    return this.groups.get(address)!;
  }

  private async mailbox(address: string): Promise<DirectoryMailbox | null> {
    if (!this.mailboxes.has(address)) this.mailboxes.set(address, await this.directory.mailbox(address));
    return this.mailboxes.get(address)!;
  }

  /** Destinations of an enabled alias (or catch-all `*@domain`). */
  private async alias(address: string): Promise<string[] | null> {
    if (!this.aliases.has(address)) this.aliases.set(address, await this.directory.aliasDestinations(address));
    return this.aliases.get(address)!;
  }

  private async deliverySettings(mailboxId: string): Promise<MailboxDeliverySettings | null> {
    if (!this.settings.has(mailboxId)) this.settings.set(mailboxId, await this.directory.deliverySettings(mailboxId));
    return this.settings.get(mailboxId)!;
  }

  private async walk(
    address: string, depth: number, via: Via, sender: SenderIdentity, out: Expansion,
    seen: Map<string, string | null>,
  ): Promise<void> {
    if (seen.has(address)) {
      // A forward or alias back into the chain: that mailbox keeps the message rather than it going nowhere.
      const mailboxId = seen.get(address);
      const target = mailboxId ? out.mailboxes.get(mailboxId) : undefined;
      if (target) target.store = true;
      return;
    }
    seen.set(address, null);
    if (depth > MAX_EXPANSION_DEPTH) {
      out.failures.push({ address, status: '5.4.6', reason: 'aliases, groups or forwards nest too deeply (a loop?)' });
      return;
    }
    const domain = await this.domain(domainOfAddress(address));
    if (!domain) {
      out.remotes.add(address);
      return;
    }
    if (domain.status !== 'active') {
      out.failures.push({ address, status: '5.2.1', reason: 'the domain does not accept mail' });
      return;
    }

    const g = await this.group(address);
    if (g) {
      const members: string[] = g.members;
      // A list reached from another list was authorised there: nested groups do not ask again.
      if (!via.fromGroup) {
        const allowed = mayPost(
          { address: g.address, postingPolicy: g.postingPolicy, allowedSenders: g.allowedSenders, members },
          { address: sender.address, authenticated: sender.authenticated, isLocal: sender.isLocal },
        );
        if (!allowed) {
          out.failures.push({ address, status: '5.7.1', reason: `the sender may not post to the group (policy ${g.postingPolicy})` });
          return;
        }
      }
      const memberVia: Via = { fromGroup: true, rewrite: g.rewriteRecipient };
      // keepCopy: a group has no mailbox of its own; the copy goes to a mailbox with the group's address if one exists.
      if (g.keepCopy) {
        const own = await this.mailbox(address);
        if (own?.status === 'active') await this.addMailbox(own, depth, { fromGroup: true, rewrite: false }, sender, out, seen);
      }
      for (const member of members) {
        if (member.startsWith('*@')) {
          // Everyone at a domain: its active mailboxes when the domain is ours; a remote wildcard names nobody.
          for (const mb of await this.directory.activeMailboxesOfDomain(member.slice(2))) {
            if (seen.has(mb.address)) continue;
            seen.set(mb.address, null);
            await this.addMailbox(mb, depth + 1, memberVia, sender, out, seen);
          }
        } else {
          await this.walk(addressKey(member), depth + 1, memberVia, sender, out, seen);
        }
      }
      return;
    }

    const mailbox = await this.mailbox(address);
    if (mailbox) {
      if (mailbox.status !== 'active') {
        out.failures.push({ address, status: '5.2.1', reason: 'the mailbox is disabled' });
        return;
      }
      await this.addMailbox(mailbox, depth, via, sender, out, seen);
      return;
    }

    const destinations = await this.alias(address);
    if (destinations) {
      for (const d of destinations) await this.walk(addressKey(d), depth + 1, via, sender, out, seen);
      return;
    }

    const catchAll = `*@${domain.name}`;
    if (!seen.has(catchAll)) {
      const catchAllDestinations = await this.alias(catchAll);
      if (catchAllDestinations) {
        seen.set(catchAll, null);
        for (const d of catchAllDestinations) await this.walk(addressKey(d), depth + 1, via, sender, out, seen);
        return;
      }
    }
    out.failures.push({ address, status: '5.1.1', reason: 'no such mailbox' });
  }

  private async addMailbox(
    mb: { id: string; address: string; displayName: string }, depth: number, via: Via, sender: SenderIdentity,
    out: Expansion, seen: Map<string, string | null>,
  ): Promise<void> {
    seen.set(mb.address, mb.id);
    const settings = await this.deliverySettings(mb.id);
    // X-Loop naming this mailbox: it forwarded this message before, so it keeps it now.
    const forwards = settings !== null && settings.forwardTo.length > 0 && !sender.xLoop.has(mb.address);
    const existing = out.mailboxes.get(mb.id);
    const target: MailboxTarget = existing ?? {
      mailboxId: mb.id, address: mb.address, displayName: mb.displayName, store: false,
      rewriteTo: via.rewrite ? mb.address : null, viaGroup: via.fromGroup, settings,
    };
    if (!forwards || settings!.forwardKeepCopy) target.store = true;
    out.mailboxes.set(mb.id, target);
    if (forwards) {
      for (const f of settings!.forwardTo) await this.walk(addressKey(f), depth + 1, { fromGroup: via.fromGroup, rewrite: false }, sender, out, seen);
    }
  }
}
