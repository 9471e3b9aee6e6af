import { Body, Controller, Get, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor, Public } from './actor.decorator';
import { AuthService } from './auth.service';
import { ActorDto, ChangePasswordDto, LoginDto, OperatorLoginDto, RefreshDto, TokenResponseDto } from './dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  /** Sign in with a mailbox address (or the bare name on the default domain) and its password. */
  @Public()
  @Post('login')
  @ZodResponse({ status: 200, type: TokenResponseDto })
  login(@Body() body: LoginDto, @ClientIp() ip: string) {
    return this.auth.mailboxLogin(body.username, body.password, ip);
  }

  /** Sign in with a local operator account (production operators use the OIDC issuer instead). */
  @Public()
  @Post('operator/login')
  @ZodResponse({ status: 200, type: TokenResponseDto })
  operatorLogin(@Body() body: OperatorLoginDto, @ClientIp() ip: string) {
    return this.auth.operatorLogin(body.username, body.password, ip);
  }

  /** Trade a refresh token for a new pair; each refresh token works once. */
  @Public()
  @Post('refresh')
  @ZodResponse({ status: 200, type: TokenResponseDto })
  refresh(@Body() body: RefreshDto) {
    return this.auth.refresh(body.refreshToken);
  }

  @Public()
  @Post('logout')
  @HttpCode(204)
  async logout(@Body() body: RefreshDto, @Headers('authorization') authorization?: string): Promise<void> {
    await this.auth.logout(body.refreshToken, authorization);
  }

  @ApiBearerAuth()
  @Get('me')
  @ZodResponse({ status: 200, type: ActorDto })
  me(@CurrentActor() actor: Actor) {
    return actor;
  }

  /** Change one's own password; every other session of the account ends. */
  @ApiBearerAuth()
  @Post('password')
  @HttpCode(204)
  async changePassword(@CurrentActor() actor: Actor, @Body() body: ChangePasswordDto, @ClientIp() ip: string): Promise<void> {
    await this.auth.changePassword(actor, body.currentPassword, body.newPassword, ip);
  }
}
