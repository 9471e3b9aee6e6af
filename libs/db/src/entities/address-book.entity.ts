import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A public address book: system-wide when tenant and domain are null, else one domain's. */
@Entity('address_book')
export class AddressBookEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId: string | null;
  @Column('uuid', { name: 'domain_id', nullable: true }) domainId: string | null;
  @Column('text') name: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@Entity('contact')
export class ContactEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'book_id' }) bookId: string;
  @Column('text', { name: 'display_name' }) displayName: string;
  @Column('text') email: string;
  @Column('text') phone: string;
  @Column('text') organization: string;
  @Column('text') title: string;
  @Column('text') notes: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
