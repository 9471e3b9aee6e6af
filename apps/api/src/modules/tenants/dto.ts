import { createZodDto } from 'nestjs-zod';
import { createTenantRequest, deleteTenantRequest, tenantListQuery, tenantPage, tenantView, updateTenantRequest } from '@dizi/contracts/tenant.contract';

export class CreateTenantDto extends createZodDto(createTenantRequest) {}
export class UpdateTenantDto extends createZodDto(updateTenantRequest) {}
export class TenantListQueryDto extends createZodDto(tenantListQuery) {}
export class DeleteTenantDto extends createZodDto(deleteTenantRequest) {}
export class TenantDto extends createZodDto(tenantView) {}
export class TenantPageDto extends createZodDto(tenantPage) {}
