import { createZodDto } from 'nestjs-zod';
import { actorView, changePasswordRequest, loginRequest, operatorLoginRequest, refreshRequest, tokenResponse } from '@dizi/contracts/auth.contract';

export class LoginDto extends createZodDto(loginRequest) {}
export class OperatorLoginDto extends createZodDto(operatorLoginRequest) {}
export class RefreshDto extends createZodDto(refreshRequest) {}
export class ChangePasswordDto extends createZodDto(changePasswordRequest) {}
export class TokenResponseDto extends createZodDto(tokenResponse) {}
export class ActorDto extends createZodDto(actorView) {}
