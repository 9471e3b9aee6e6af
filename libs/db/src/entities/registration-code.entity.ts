import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('registration_code')
export class RegistrationCodeEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('text') domain: string;
  @Column('integer', { name: 'max_domains' }) maxDomains: number;
  @Column('integer', { name: 'max_mailboxes' }) maxMailboxes: number;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('text', { name: 'issued_by' }) issuedBy: string;
  @Column('timestamptz', { name: 'issued_at', default: () => 'now()' }) issuedAt: Date;
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId: string | null;
  @Column('timestamptz', { name: 'redeemed_at', nullable: true }) redeemedAt: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
}
