import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A local operator account (production operators sign in through OIDC instead). */
@Entity('operator_account')
export class OperatorAccountEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') username: string;
  @Column('text', { name: 'display_name' }) displayName: string;
  @Column('text', { name: 'password_hash', select: false }) passwordHash: string;
  @Column('text') status: 'active' | 'suspended';
  @Column('integer', { name: 'token_version' }) tokenVersion: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export type SubjectKind = 'mailbox' | 'operator-account';

@Entity('refresh_token')
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text', { name: 'subject_kind' }) subjectKind: SubjectKind;
  @Column('uuid', { name: 'subject_id' }) subjectId: string;
  @Column('bytea', { name: 'token_hash' }) tokenHash: Buffer;
  @Column('integer', { name: 'token_version' }) tokenVersion: number;
  @Column('timestamptz', { name: 'expires_at' }) expiresAt: Date;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
}

@Entity('api_key')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('text') name: string;
  @Column('uuid', { name: 'tenant_id', nullable: true }) tenantId: string | null;
  @Column('text') role: 'operator' | 'tenant_admin';
  @Column('text') prefix: string;
  @Column('bytea', { name: 'key_hash', select: false }) keyHash: Buffer;
  @Column('text', { name: 'created_by' }) createdBy: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('timestamptz', { name: 'last_used_at', nullable: true }) lastUsedAt: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
}

/** Keys the system generates for itself (token signing, registration codes). */
@Entity('system_key')
export class SystemKeyEntity {
  @PrimaryColumn('text') purpose: string;
  @Column('text') algorithm: string;
  @Column('text', { name: 'public_key' }) publicKey: string;
  @Column('text', { name: 'private_key' }) privateKey: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
