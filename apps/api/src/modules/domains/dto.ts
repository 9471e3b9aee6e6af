import { createZodDto } from 'nestjs-zod';
import {
  createDomainRequest, deleteDomainRequest, domainDnsCheckView, domainDnsView, domainListQuery, domainPage, domainView, updateDomainRequest,
} from '@dizi/contracts/domain.contract';

export class CreateDomainDto extends createZodDto(createDomainRequest) {}
export class UpdateDomainDto extends createZodDto(updateDomainRequest) {}
export class DomainListQueryDto extends createZodDto(domainListQuery) {}
export class DeleteDomainDto extends createZodDto(deleteDomainRequest) {}
export class DomainDto extends createZodDto(domainView) {}
export class DomainPageDto extends createZodDto(domainPage) {}
export class DomainDnsDto extends createZodDto(domainDnsView) {}
export class DomainDnsCheckDto extends createZodDto(domainDnsCheckView) {}
