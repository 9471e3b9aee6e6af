import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../columns';

/** Tombstone of an expunged or moved-away message, answering QRESYNC VANISHED (EARLIER). */
@Entity('expunged_message')
export class ExpungedMessageEntity {
  @PrimaryColumn('uuid', { name: 'folder_id' }) folderId: string;
  @PrimaryColumn('integer') uid: number;
  @Column('bigint', { transformer: bigintNumber }) modseq: number;
}
