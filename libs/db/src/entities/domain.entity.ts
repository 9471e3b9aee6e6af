import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintNumber } from './columns';

export type DomainStatus = 'active' | 'disabled';

@Entity('domain')
export class DomainEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  /** ASCII (punycode) lower-case name. */
  @Column('text') name: string;
  @Column('text', { name: 'unicode_name' }) unicodeName: string;
  @Column('text') status: DomainStatus;
  @Column('text', { name: 'helo_name', nullable: true }) heloName: string | null;
  @Column('bigint', { name: 'max_storage_bytes', nullable: true, transformer: bigintNumber }) maxStorageBytes: number | null;
  @Column('integer', { name: 'max_mailboxes', nullable: true }) maxMailboxes: number | null;
  @Column('boolean', { name: 'is_default' }) isDefault: boolean;
  @Column('boolean', { name: 'allow_registration' }) allowRegistration: boolean;
  @Column('boolean', { name: 'smtp_enabled' }) smtpEnabled: boolean;
  @Column('boolean', { name: 'pop3_enabled' }) pop3Enabled: boolean;
  @Column('boolean', { name: 'imap_enabled' }) imapEnabled: boolean;
  @Column('boolean', { name: 'local_only' }) localOnly: boolean;
  @Column('bigint', { name: 'mailbox_default_quota_bytes', transformer: bigintNumber }) mailboxDefaultQuotaBytes: number;
  @Column('bigint', { name: 'mailbox_max_quota_bytes', nullable: true, transformer: bigintNumber }) mailboxMaxQuotaBytes: number | null;
  @Column('integer', { name: 'mailbox_daily_send_limit', nullable: true }) mailboxDailySendLimit: number | null;
  @Column('text', { name: 'dkim_selector' }) dkimSelector: string;
  @Column('text', { name: 'dkim_private_key', nullable: true, select: false }) dkimPrivateKey: string | null;
  @Column('text', { name: 'dkim_public_key', nullable: true }) dkimPublicKey: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
