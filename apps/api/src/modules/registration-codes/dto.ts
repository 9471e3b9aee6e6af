import { createZodDto } from 'nestjs-zod';
import {
  createRegistrationCodeRequest, issuedRegistrationCodeView, redeemRegistrationCodeRequest, registrationCodeListQuery, registrationCodePage,
  registrationCodeView,
} from '@dizi/contracts/registration-code.contract';

export class CreateRegistrationCodeDto extends createZodDto(createRegistrationCodeRequest) {}
export class RedeemRegistrationCodeDto extends createZodDto(redeemRegistrationCodeRequest) {}
export class RegistrationCodeListQueryDto extends createZodDto(registrationCodeListQuery) {}
export class RegistrationCodeDto extends createZodDto(registrationCodeView) {}
export class IssuedRegistrationCodeDto extends createZodDto(issuedRegistrationCodeView) {}
export class RegistrationCodePageDto extends createZodDto(registrationCodePage) {}
