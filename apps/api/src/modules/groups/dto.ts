import { createZodDto } from 'nestjs-zod';
import {
  createGroupRequest, groupListQuery, groupMemberPage, groupMembersChange, groupMembersRequest, groupPage, groupView, updateGroupRequest,
} from '@dizi/contracts/group.contract';
import { pageQuery } from '@dizi/contracts/common.contract';

export class CreateGroupDto extends createZodDto(createGroupRequest) {}
export class UpdateGroupDto extends createZodDto(updateGroupRequest) {}
export class GroupListQueryDto extends createZodDto(groupListQuery) {}
export class GroupMembersDto extends createZodDto(groupMembersRequest) {}
export class GroupMemberQueryDto extends createZodDto(pageQuery) {}
export class GroupDto extends createZodDto(groupView) {}
export class GroupPageDto extends createZodDto(groupPage) {}
export class GroupMemberPageDto extends createZodDto(groupMemberPage) {}
export class GroupMembersChangeDto extends createZodDto(groupMembersChange) {}
