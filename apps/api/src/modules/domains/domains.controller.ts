import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import { ConfirmBody } from '../tenants/confirm-body.decorator';
import { DomainsService } from './domains.service';
import { CreateDomainDto, DeleteDomainDto, DomainDnsCheckDto, DomainDnsDto, DomainDto, DomainListQueryDto, DomainPageDto, UpdateDomainDto } from './dto';

@ApiTags('domains')
@ApiBearerAuth()
@Controller('domains')
export class DomainsController {
  constructor(private readonly domains: DomainsService) {}

  @Get()
  @ZodResponse({ status: 200, type: DomainPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: DomainListQueryDto) {
    return this.domains.list(actor, query);
  }

  @Post()
  @ZodResponse({ status: 201, type: DomainDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateDomainDto) {
    return this.domains.create(actor, ip, body);
  }

  /** By id or by name. */
  @Get(':domain')
  @ZodResponse({ status: 200, type: DomainDto })
  get(@CurrentActor() actor: Actor, @Param('domain') domain: string) {
    return this.domains.get(actor, domain);
  }

  @Patch(':domain')
  @ZodResponse({ status: 200, type: DomainDto })
  update(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') domain: string, @Body() body: UpdateDomainDto) {
    return this.domains.update(actor, ip, domain, body);
  }

  /** Deletes the domain, its mailboxes and their mail; `confirm` must repeat the domain name. */
  @Delete(':domain')
  @HttpCode(204)
  @ApiBody({ type: DeleteDomainDto, required: true })
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('domain') domain: string, @ConfirmBody() body: DeleteDomainDto): Promise<void> {
    await this.domains.remove(actor, ip, domain, body.confirm);
  }

  /** DNS records to publish for the domain (MX, SPF, DKIM, DMARC, autoconfiguration SRV, MTA-STS). */
  @Get(':domain/dns')
  @ZodResponse({ status: 200, type: DomainDnsDto })
  dns(@CurrentActor() actor: Actor, @Param('domain') domain: string) {
    return this.domains.dns(actor, domain);
  }

  /** Looks every record to publish up through the configured resolver: found, missing or wrong, with the value to set. */
  @Get(':domain/dns/check')
  @ZodResponse({ status: 200, type: DomainDnsCheckDto })
  checkDns(@CurrentActor() actor: Actor, @Param('domain') domain: string) {
    return this.domains.checkDns(actor, domain);
  }
}
