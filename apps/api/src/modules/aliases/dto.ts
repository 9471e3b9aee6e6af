import { createZodDto } from 'nestjs-zod';
import { aliasListQuery, aliasPage, aliasView, createAliasRequest, updateAliasRequest } from '@dizi/contracts/alias.contract';

export class CreateAliasDto extends createZodDto(createAliasRequest) {}
export class UpdateAliasDto extends createZodDto(updateAliasRequest) {}
export class AliasListQueryDto extends createZodDto(aliasListQuery) {}
export class AliasDto extends createZodDto(aliasView) {}
export class AliasPageDto extends createZodDto(aliasPage) {}
