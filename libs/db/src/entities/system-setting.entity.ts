import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('system_setting')
export class SystemSettingEntity {
  @PrimaryColumn('text') key: string;
  @Column('jsonb') value: unknown;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
