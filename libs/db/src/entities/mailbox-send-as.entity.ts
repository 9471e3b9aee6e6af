import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An address a domain admin allowed a mailbox to send as (envelope sender and From: on submission). */
@Entity('mailbox_send_as')
export class MailboxSendAsEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'mailbox_id' }) mailboxId: string;
  @Column('text') address: string;
  /** Who granted it (actor name), for the admins' view; the audit log has the full record. */
  @Column('text', { name: 'granted_by' }) grantedBy: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
