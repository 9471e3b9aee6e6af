import { createZodDto } from 'nestjs-zod';
import { jmapSettingsPatch, jmapSettingsView } from '@dizi/contracts/jmap-settings.contract';
import { mailTemplates, mailTemplatesView, smtpSettingsPatch, smtpSettingsView, templatePreview, templatePreviewRequest } from '@dizi/contracts/settings.contract';

export class SmtpSettingsPatchDto extends createZodDto(smtpSettingsPatch) {}
export class SmtpSettingsDto extends createZodDto(smtpSettingsView) {}
export class MailTemplatesDto extends createZodDto(mailTemplates) {}
export class MailTemplatesViewDto extends createZodDto(mailTemplatesView) {}
export class TemplatePreviewRequestDto extends createZodDto(templatePreviewRequest) {}
export class TemplatePreviewDto extends createZodDto(templatePreview) {}

export class JmapSettingsPatchDto extends createZodDto(jmapSettingsPatch) {}
export class JmapSettingsDto extends createZodDto(jmapSettingsView) {}
