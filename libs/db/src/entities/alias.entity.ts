import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** One address delivering to many; local part `*` is the domain's catch-all. */
@Entity('alias')
export class AliasEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'domain_id' }) domainId: string;
  @Column('text', { name: 'local_part' }) localPart: string;
  @Column('text') address: string;
  @Column('text', { array: true }) destinations: string[];
  @Column('boolean') enabled: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
