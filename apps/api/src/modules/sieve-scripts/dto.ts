import { createZodDto } from 'nestjs-zod';
import { createSieveScriptRequest, putSieveScriptRequest, sieveScriptDetailView, sieveScriptListView, sieveScriptView } from '@dizi/contracts/sieve-scripts.contract';

export class CreateSieveScriptDto extends createZodDto(createSieveScriptRequest) {}
export class PutSieveScriptDto extends createZodDto(putSieveScriptRequest) {}
export class SieveScriptDto extends createZodDto(sieveScriptView) {}
export class SieveScriptDetailDto extends createZodDto(sieveScriptDetailView) {}
export class SieveScriptListDto extends createZodDto(sieveScriptListView) {}
