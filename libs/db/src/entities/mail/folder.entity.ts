import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber } from '../columns';

export type FolderSpecialUse = 'inbox' | 'sent' | 'drafts' | 'trash' | 'junk' | 'virus';

/** A mailbox folder (IMAP "mailbox"). Written only through libs/mail-store, which keeps the counters in step. */
@Entity('folder')
export class FolderEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'mailbox_id' }) mailboxId: string;
  /** Full path, '/' between levels, UTF-8. */
  @Column('text') name: string;
  @Column('text', { name: 'special_use', nullable: true }) specialUse: FolderSpecialUse | null;
  @Column('boolean') subscribed: boolean;
  @Column('bigint', { name: 'uid_validity', transformer: bigintNumber }) uidValidity: number;
  @Column('integer', { name: 'uid_next' }) uidNext: number;
  @Column('bigint', { name: 'highest_modseq', transformer: bigintNumber }) highestModseq: number;
  @Column('integer', { name: 'message_count' }) messageCount: number;
  @Column('integer', { name: 'unseen_count' }) unseenCount: number;
  @Column('bigint', { name: 'size_bytes', transformer: bigintNumber }) sizeBytes: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
