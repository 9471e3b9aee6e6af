import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber } from '../columns';

/** One message in one folder; its body is the blob, served after header_prefix. Written only through libs/mail-store. */
@Entity('message')
export class MessageEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id: string;
  @Column('uuid', { name: 'mailbox_id' }) mailboxId: string;
  @Column('uuid', { name: 'folder_id' }) folderId: string;
  @Column('integer') uid: number;
  @Column('bigint', { transformer: bigintNumber }) modseq: number;
  @Column('text', { array: true }) flags: string[];
  @Column('timestamptz', { name: 'internal_date' }) internalDate: Date;
  /** Octets as served: header prefix + blob. */
  @Column('integer') size: number;
  @Column('text', { name: 'blob_hash' }) blobHash: string;
  @Column('text', { name: 'header_prefix' }) headerPrefix: string;
  @Column('jsonb') summary: unknown;
  @Column('text', { nullable: true }) subject: string | null;
  @Column('text', { name: 'base_subject', nullable: true }) baseSubject: string | null;
  @Column('text', { name: 'from_addr', nullable: true }) fromAddr: string | null;
  @Column('text', { name: 'to_addr', nullable: true }) toAddr: string | null;
  @Column('text', { name: 'cc_addr', nullable: true }) ccAddr: string | null;
  @Column('timestamptz', { name: 'sent_date', nullable: true }) sentDate: Date | null;
  @Column('text', { name: 'message_id', nullable: true }) messageId: string | null;
  @Column('text', { name: 'in_reply_to', nullable: true }) inReplyTo: string | null;
  @Column('text', { array: true }) refs: string[];
  @Column('text', { name: 'attachment_names', array: true }) attachmentNames: string[];
  /* The keys of the search lexemes are per blob, in blob_search (migration 1765450000000), written by libs/mail-store only. */
  @Column('text', { name: 'delivery_key', nullable: true }) deliveryKey: string | null;
  /** IMAP ENVELOPE / BODYSTRUCTURE rendered when stored; NULL for older rows. */
  @Column('text', { name: 'imap_envelope', nullable: true }) imapEnvelope: string | null;
  @Column('text', { name: 'imap_bodystructure', nullable: true }) imapBodystructure: string | null;
  /** Header search texts, sent day and sort keys (libs/mail-store search-fields.ts); NULL until the store fills it. */
  @Column({ type: 'jsonb', name: 'search_fields', nullable: true, select: false, insert: false, update: false }) searchFields: unknown;
}
