import { createZodDto } from 'nestjs-zod';
import { auditListQuery, auditPage } from '@dizi/contracts/audit.contract';

export class AuditListQueryDto extends createZodDto(auditListQuery) {}
export class AuditPageDto extends createZodDto(auditPage) {}
