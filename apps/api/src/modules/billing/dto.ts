import { createZodDto } from 'nestjs-zod';
import {
  changePlanRequest, checkoutRequest, createPlanRequest, invoiceList, linkView, planList, planView, setBillingRequest, tenantBillingView, updatePlanRequest, usageList, usageQuery,
} from '@dizi/contracts/billing.contract';

export class CreatePlanDto extends createZodDto(createPlanRequest) {}
export class UpdatePlanDto extends createZodDto(updatePlanRequest) {}
export class PlanDto extends createZodDto(planView) {}
export class PlanListDto extends createZodDto(planList) {}
export class ChangePlanDto extends createZodDto(changePlanRequest) {}
export class TenantBillingDto extends createZodDto(tenantBillingView) {}
export class SetBillingDto extends createZodDto(setBillingRequest) {}
export class CheckoutDto extends createZodDto(checkoutRequest) {}
export class LinkDto extends createZodDto(linkView) {}
export class InvoiceListDto extends createZodDto(invoiceList) {}
export class UsageQueryDto extends createZodDto(usageQuery) {}
export class UsageListDto extends createZodDto(usageList) {}
