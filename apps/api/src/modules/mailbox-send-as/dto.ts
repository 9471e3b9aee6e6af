import { createZodDto } from 'nestjs-zod';
import { grantSendAsRequest, sendAsIdentityView, sendAsListView } from '@dizi/contracts/mailbox-send-as.contract';

export class GrantSendAsDto extends createZodDto(grantSendAsRequest) {}
export class SendAsIdentityDto extends createZodDto(sendAsIdentityView) {}
export class SendAsListDto extends createZodDto(sendAsListView) {}
