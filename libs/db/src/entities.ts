/** Every entity the data source knows, listed once. */
import { AddressBookEntity, ContactEntity } from './entities/address-book.entity';
import { AliasEntity } from './entities/alias.entity';
import { AuditEventEntity } from './entities/audit-event.entity';
import { DomainEntity } from './entities/domain.entity';
import { ApiKeyEntity, OperatorAccountEntity, RefreshTokenEntity, SystemKeyEntity } from './entities/identity.entity';
import { ImportJobEntity, ImportJobRowEntity } from './entities/import-job.entity';
import { MailGroupEntity, MailGroupMemberEntity } from './entities/mail-group.entity';
import { MailboxEntity } from './entities/mailbox.entity';
import { MailboxSendAsEntity } from './entities/mailbox-send-as.entity';
import { SieveScriptEntity } from './entities/sieve-script.entity';
import { RegistrationCodeEntity } from './entities/registration-code.entity';
import { SystemSettingEntity } from './entities/system-setting.entity';
import { TenantEntity } from './entities/tenant.entity';
import { BlobEntity } from './entities/mail/blob.entity';
import { ExpungedMessageEntity } from './entities/mail/expunged-message.entity';
import { FolderEntity } from './entities/mail/folder.entity';
import { MessageEntity } from './entities/mail/message.entity';

export const ENTITIES = [
  TenantEntity, DomainEntity, MailboxEntity, AliasEntity, MailGroupEntity, MailGroupMemberEntity,
  AddressBookEntity, ContactEntity, OperatorAccountEntity, RefreshTokenEntity, ApiKeyEntity, SystemKeyEntity,
  AuditEventEntity, RegistrationCodeEntity, ImportJobEntity, ImportJobRowEntity, SystemSettingEntity,
  BlobEntity, FolderEntity, MessageEntity, ExpungedMessageEntity, MailboxSendAsEntity,
  SieveScriptEntity,
];
