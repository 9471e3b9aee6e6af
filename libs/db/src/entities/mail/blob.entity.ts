import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../columns';

/** One stored message body, shared by every message row with the same SHA-256; see libs/mail-store. */
@Entity('blob')
export class BlobEntity {
  @PrimaryColumn('text') hash: string;
  @Column('bigint', { transformer: bigintNumber }) size: number;
  /** Maintained by a trigger on message; never write it from application code. */
  @Column('integer') refcount: number;
  @Column('timestamptz', { name: 'created_at' }) createdAt: Date;
  @Column('timestamptz', { name: 'touched_at' }) touchedAt: Date;
}
