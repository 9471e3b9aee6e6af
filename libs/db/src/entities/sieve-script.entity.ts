import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A Sieve script of the operator (global), a domain or a mailbox; one per owner is active. */
@Entity('sieve_script')
export class SieveScriptEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') level: 'global' | 'domain' | 'mailbox';
  @Column('uuid', { name: 'domain_id', nullable: true }) domainId: string | null;
  @Column('uuid', { name: 'mailbox_id', nullable: true }) mailboxId: string | null;
  @Column('text') name: string;
  @Column('text') content: string;
  @Column('boolean') active: boolean;
  /** Global and domain scripts only: once this script acted, the lower levels do not run. */
  @Column('boolean') final: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
