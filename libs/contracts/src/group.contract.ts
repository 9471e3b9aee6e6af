import { z } from 'zod';
import { POSTING_POLICIES } from '@dizi/domain/group-posting';
import { isoDate, pageOf, pageQuery } from './common.contract';

export const MAX_GROUP_MEMBERS_PER_REQUEST = 10_000;

export const postingPolicy = z
  .enum(POSTING_POLICIES)
  .describe('who may post: anyone, same_domain (senders at the group domain), local (local mailboxes), authenticated (signed-in senders), members, listed (allowedSenders)');

const addressPattern = z.string().trim().min(1).max(320).describe('an address, or `*@domain` / `@domain` for everyone at a domain');
const memberList = z
  .array(addressPattern)
  .max(MAX_GROUP_MEMBERS_PER_REQUEST, `send at most ${MAX_GROUP_MEMBERS_PER_REQUEST} members per request`);

const groupSettings = z.object({
  name: z.string().trim().max(200),
  description: z.string().trim().max(2000),
  postingPolicy,
  allowedSenders: z.array(addressPattern).max(1000).describe('senders allowed under the `listed` policy'),
  keepCopy: z.boolean().describe('also keep a copy in the group mailbox'),
  rewriteRecipient: z.boolean().describe("rewrite the To header to each member's address"),
});

export const groupListQuery = pageQuery.extend({
  domain: z.string().trim().min(1).max(253).optional().describe('domain id or name'),
  q: z.string().trim().max(320).optional().describe('part of the group address or name'),
});

export const createGroupRequest = groupSettings.partial().extend({
  address: z.string().trim().min(1).max(320).describe('the group address'),
  members: memberList.optional(),
});

export const updateGroupRequest = groupSettings.partial().strict();

export const groupMembersRequest = z.object({ members: memberList });

export const groupView = groupSettings.extend({
  id: z.string(),
  tenantId: z.string(),
  domainId: z.string(),
  address: z.string(),
  memberCount: z.number().int(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const groupPage = pageOf(groupView);

export const groupMemberPage = pageOf(z.string().describe('member address or `*@domain` pattern'));

export const groupMembersChange = z.object({
  added: z.number().int().describe('members that were not there before'),
  removed: z.number().int().describe('members that were there and are gone'),
  memberCount: z.number().int(),
});
