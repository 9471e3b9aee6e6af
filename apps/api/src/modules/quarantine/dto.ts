import { createZodDto } from 'nestjs-zod';
import { quarantineEntryView, quarantineListQuery, quarantinePage, quarantinePreview } from '@dizi/contracts/quarantine.contract';

export class QuarantineListQueryDto extends createZodDto(quarantineListQuery) {}
export class QuarantineEntryDto extends createZodDto(quarantineEntryView) {}
export class QuarantinePageDto extends createZodDto(quarantinePage) {}
export class QuarantinePreviewDto extends createZodDto(quarantinePreview) {}
