/**
 * The envelope sender of copies that forwarding, aliases and groups send on to remote addresses: rewritten
 * with SRS in the forwarding address's domain (ours), so the next hop's SPF check sees our domain and a bounce
 * comes back to us (the SMTP role's srs-bounce check turns it back). A null sender stays null; a sender in one
 * of our own domains is already ours to send for and keeps its address.
 */
import { domainOfAddress } from '@dizi/domain/address';
import type { Srs } from '@dizi/smtp/srs/srs';
import type { DirectoryStore } from '../ports/directory-store';

/**
 * For each remote destination (key) reached through a local forwarding address (value), the envelope sender
 * its copy leaves with, or null for the message's own. Order follows `forwards`.
 */
export async function forwardingSenders(
  directory: Pick<DirectoryStore, 'localDomains'>,
  srs: Srs | undefined,
  mailFrom: string,
  forwards: ReadonlyMap<string, string>,
): Promise<Array<string | null>> {
  const none = [...forwards.keys()].map(() => null);
  if (!srs || mailFrom === '' || !mailFrom.includes('@')) return none;
  if ((await directory.localDomains([domainOfAddress(mailFrom)])).size > 0) return none;
  return [...forwards.values()].map((forwarder) => srs.forward(mailFrom, domainOfAddress(forwarder)));
}
