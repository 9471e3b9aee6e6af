import { createZodDto } from 'nestjs-zod';
import { dashboardQuery, dashboardView } from '@dizi/contracts/stats.contract';

export class DashboardQueryDto extends createZodDto(dashboardQuery) {}
export class DashboardDto extends createZodDto(dashboardView) {}
