import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export type ImportJobStatus = 'running' | 'done' | 'failed' | 'interrupted';

@Entity('import_job')
export class ImportJobEntity {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId: string;
  @Column('uuid', { name: 'domain_id', nullable: true }) domainId: string | null;
  @Column('text') kind: string;
  @Column('text') status: ImportJobStatus;
  @Column('integer') processed: number;
  @Column('integer') created: number;
  @Column('integer') skipped: number;
  @Column('integer') failed: number;
  @Column('text', { nullable: true }) error: string | null;
  @Column('text', { name: 'started_by' }) startedBy: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
  @Column('timestamptz', { name: 'heartbeat_at', default: () => 'now()' }) heartbeatAt: Date;
}

@Entity('import_job_row')
export class ImportJobRowEntity {
  @PrimaryColumn('uuid', { name: 'job_id' }) jobId: string;
  @PrimaryColumn('integer') line: number;
  @Column('text') address: string;
  @Column('text') outcome: 'created' | 'skipped' | 'failed';
  @Column('text') reason: string;
}
