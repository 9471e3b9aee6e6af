/**
 * What delivery asks the directory (domains, mailboxes, aliases and catch-alls, groups, per-mailbox delivery
 * settings): the port recipient expansion, forwarding and content-filter filing run against. Adapters:
 * adapters/postgres/pg-directory-store.ts (the SQL) and adapters/memory/memory-directory-store.ts (unit tests).
 * Addresses are lookup keys (lower case, see @dizi/domain/lookup-key); a catch-all is the alias `*@domain`.
 */
import type { PostingPolicy } from '@dizi/domain/group-posting';

export interface DirectoryDomain {
  name: string;
  /** `active` accepts mail; anything else refuses it. */
  status: string;
}

export interface DirectoryMailbox {
  id: string;
  address: string;
  displayName: string;
  status: string;
}

export interface DirectoryGroup {
  id: string;
  address: string;
  postingPolicy: PostingPolicy;
  allowedSenders: string[];
  keepCopy: boolean;
  rewriteRecipient: boolean;
  /** Member addresses, or `*@domain` for everyone at a domain. */
  members: string[];
}

export interface MailboxDeliverySettings {
  forwardTo: string[];
  forwardKeepCopy: boolean;
  autoReplyEnabled: boolean;
  autoReplySubject: string;
  autoReplyBody: string;
  autoReplyStartsAt: Date | null;
  autoReplyEndsAt: Date | null;
}

/** Everything `lookupMany` found; what is missing from it does not exist. */
export interface DirectorySnapshot {
  domains: DirectoryDomain[];
  groups: DirectoryGroup[];
  /** With their delivery settings (null: the mailbox has none). */
  mailboxes: Array<DirectoryMailbox & { settings: MailboxDeliverySettings | null }>;
  /** Enabled aliases only. */
  aliases: Array<{ address: string; destinations: string[] }>;
}

/** A hosted domain as the sender of outbound mail. */
export interface SendingDomain {
  /** The domain row's id: the sealed DKIM key is bound to it (libs/auth/src/keys-at-rest.ts). */
  id: string;
  name: string;
  heloName: string | null;
  dkimSelector: string;
  dkimPrivateKey: string | null;
  tenantId: string;
}

/** An operator's fixed route for a destination domain. */
export interface TransportRoute {
  host: string;
  port: number;
  requireTls: boolean;
}

export interface DirectoryStore {
  /** One round trip for a batch: the domains named, the groups and mailboxes at `addresses`, the aliases at `aliasAddresses`. */
  lookupMany(addresses: string[], domains: string[], aliasAddresses: string[]): Promise<DirectorySnapshot>;
  domain(name: string): Promise<DirectoryDomain | null>;
  group(address: string): Promise<DirectoryGroup | null>;
  mailbox(address: string): Promise<DirectoryMailbox | null>;
  /** Destinations of an enabled alias (or catch-all `*@domain`); null when there is none. */
  aliasDestinations(address: string): Promise<string[] | null>;
  deliverySettings(mailboxId: string): Promise<MailboxDeliverySettings | null>;
  /** The active mailboxes of a domain, when the domain itself is active; ordered by address. */
  activeMailboxesOfDomain(domain: string): Promise<DirectoryMailbox[]>;
  /** Which of these domain names are hosted here. */
  localDomains(names: string[]): Promise<Set<string>>;
  /** mailbox id → id of its folder with this special use, for the mailboxes that have one. */
  specialUseFolders(mailboxIds: string[], specialUse: string): Promise<Map<string, string>>;
  /** HELO name, DKIM key and tenant of a hosted domain sending mail out; null for a domain not hosted here. */
  sendingDomain(name: string): Promise<SendingDomain | null>;
  transportRoute(domain: string): Promise<TransportRoute | null>;
}
