import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import type { Actor } from '@dizi/domain/policy';
import { ClientIp, CurrentActor } from '../auth/actor.decorator';
import {
  CreateGroupDto, GroupDto, GroupListQueryDto, GroupMemberPageDto, GroupMemberQueryDto, GroupMembersChangeDto, GroupMembersDto, GroupPageDto, UpdateGroupDto,
} from './dto';
import { GroupsService } from './groups.service';

/** Groups that work as mailing lists: address, posting policy and members (addresses or `*@domain`). */
@ApiTags('groups')
@ApiBearerAuth()
@Controller('groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ZodResponse({ status: 200, type: GroupPageDto })
  list(@CurrentActor() actor: Actor, @Query() query: GroupListQueryDto) {
    return this.groups.list(actor, query);
  }

  @Post()
  @ZodResponse({ status: 201, type: GroupDto })
  create(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Body() body: CreateGroupDto) {
    return this.groups.create(actor, ip, body);
  }

  /** By id or by address. */
  @Get(':group')
  @ZodResponse({ status: 200, type: GroupDto })
  get(@CurrentActor() actor: Actor, @Param('group') group: string) {
    return this.groups.get(actor, group);
  }

  @Patch(':group')
  @ZodResponse({ status: 200, type: GroupDto })
  update(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('group') group: string, @Body() body: UpdateGroupDto) {
    return this.groups.update(actor, ip, group, body);
  }

  @Delete(':group')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'deleted' })
  async remove(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('group') group: string): Promise<void> {
    await this.groups.remove(actor, ip, group);
  }

  @Get(':group/members')
  @ZodResponse({ status: 200, type: GroupMemberPageDto })
  members(@CurrentActor() actor: Actor, @Param('group') group: string, @Query() query: GroupMemberQueryDto) {
    return this.groups.members(actor, group, query);
  }

  /** Adds members; members already in the group are left alone, so repeating the call changes nothing. */
  @Post(':group/members')
  @ZodResponse({ status: 200, type: GroupMembersChangeDto })
  addMembers(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('group') group: string, @Body() body: GroupMembersDto) {
    return this.groups.addMembers(actor, ip, group, body.members);
  }

  /** Removes the listed members; members not in the group are ignored. */
  @Delete(':group/members')
  @ZodResponse({ status: 200, type: GroupMembersChangeDto })
  removeMembers(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('group') group: string, @Body() body: GroupMembersDto) {
    return this.groups.removeMembers(actor, ip, group, body.members);
  }

  /** Replaces the whole member list in one transaction: one invalid member and nothing changes. */
  @Put(':group/members')
  @ZodResponse({ status: 200, type: GroupMembersChangeDto })
  replaceMembers(@CurrentActor() actor: Actor, @ClientIp() ip: string, @Param('group') group: string, @Body() body: GroupMembersDto) {
    return this.groups.replaceMembers(actor, ip, group, body.members);
  }
}
