import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { MailboxRole } from '@dizi/domain/roles';
import { bigintNumber } from './columns';

export type MailboxStatus = 'active' | 'suspended';

@Entity('mailbox')
export class MailboxEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'domain_id' }) domainId: string;
  @Column('text', { name: 'local_part' }) localPart: string;
  @Column('text') address: string;
  @Column('text', { name: 'display_name' }) displayName: string;
  @Column('text') role: MailboxRole;
  @Column('text', { name: 'password_hash', select: false }) passwordHash: string;
  @Column('text') status: MailboxStatus;
  @Column('boolean', { name: 'may_send_outside' }) maySendOutside: boolean;
  @Column('bigint', { name: 'quota_bytes', transformer: bigintNumber }) quotaBytes: number;
  @Column('bigint', { name: 'used_bytes', transformer: bigintNumber }) usedBytes: number;
  @Column('integer', { name: 'message_count' }) messageCount: number;
  @Column('integer', { name: 'daily_send_limit', nullable: true }) dailySendLimit: number | null;
  @Column('integer', { name: 'token_version' }) tokenVersion: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
