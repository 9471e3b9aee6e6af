/** The delivery ports on one PostgreSQL pool, as a process wires them (composition, tests). */
import type { Pool } from 'pg';
import type { MessageStore } from '@dizi/mail-store/ports/message-store';
import type { MailboxNotices } from '../../local/local-delivery';
import { SystemNotices } from '../../local/system-notices';
import type { DirectoryStore } from '../../ports/directory-store';
import type { SieveScriptStore } from '../../ports/sieve-script-store';
import type { SpoolStore } from '../../ports/spool-store';
import { PgDirectoryStore } from './pg-directory-store';
import { PgSieveScriptStore } from './pg-sieve-script-store';
import { PgSpoolStore } from './pg-spool-store';

export interface DeliveryStores {
  spool: SpoolStore;
  directory: DirectoryStore;
  notices: MailboxNotices;
  sieveScripts: SieveScriptStore;
}

export function postgresDeliveryStores(pool: Pool, store: MessageStore, hostname: string): DeliveryStores {
  return { spool: new PgSpoolStore(pool), directory: new PgDirectoryStore(pool), notices: new SystemNotices(pool, store, hostname),
    sieveScripts: new PgSieveScriptStore(pool) };
}
