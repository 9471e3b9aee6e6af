import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const POSTING_POLICIES = ['anyone', 'same_domain', 'local', 'authenticated', 'members', 'listed'] as const;
export type PostingPolicy = (typeof POSTING_POLICIES)[number];

/** A group address that works as a mailing list. */
@Entity('mail_group')
export class MailGroupEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'domain_id' }) domainId: string;
  @Column('text', { name: 'local_part' }) localPart: string;
  @Column('text') address: string;
  @Column('text') name: string;
  @Column('text') description: string;
  @Column('text', { name: 'posting_policy' }) postingPolicy: PostingPolicy;
  @Column('text', { name: 'allowed_senders', array: true }) allowedSenders: string[];
  @Column('boolean', { name: 'keep_copy' }) keepCopy: boolean;
  @Column('boolean', { name: 'rewrite_recipient' }) rewriteRecipient: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** A member is an address or a wildcard such as `*@a.test`. */
@Entity('mail_group_member')
export class MailGroupMemberEntity {
  @PrimaryColumn('uuid', { name: 'group_id' }) groupId: string;
  @PrimaryColumn('text') member: string;
}
