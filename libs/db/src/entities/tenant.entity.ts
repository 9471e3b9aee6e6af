import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintNumber } from './columns';

export type TenantStatus = 'active' | 'suspended';

@Entity('tenant')
export class TenantEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('text') plan: string;
  @Column('text') status: TenantStatus;
  @Column('integer', { name: 'max_domains', nullable: true }) maxDomains: number | null;
  @Column('integer', { name: 'max_mailboxes', nullable: true }) maxMailboxes: number | null;
  @Column('bigint', { name: 'max_storage_bytes', nullable: true, transformer: bigintNumber }) maxStorageBytes: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
