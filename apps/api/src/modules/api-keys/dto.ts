import { createZodDto } from 'nestjs-zod';
import { apiKeyListQuery, apiKeyPage, apiKeyView, createApiKeyRequest, createdApiKeyView } from '@dizi/contracts/api-key.contract';

export class CreateApiKeyDto extends createZodDto(createApiKeyRequest) {}
export class ApiKeyListQueryDto extends createZodDto(apiKeyListQuery) {}
export class ApiKeyDto extends createZodDto(apiKeyView) {}
export class CreatedApiKeyDto extends createZodDto(createdApiKeyView) {}
export class ApiKeyPageDto extends createZodDto(apiKeyPage) {}
