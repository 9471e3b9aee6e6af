import { z } from 'zod';
import { isoDate, pageOf, pageQuery } from './common.contract';

export const MAX_ALIAS_DESTINATIONS = 1000;

const mailAddress = z.string().trim().min(1).max(320);

export const aliasListQuery = pageQuery.extend({
  domain: z.string().trim().min(1).max(253).optional().describe('domain id or name'),
  q: z.string().trim().max(320).optional().describe('part of the alias address or of a destination'),
});

export const createAliasRequest = z
  .object({
    address: mailAddress.optional().describe('the alias address; `*@domain` is the domain catch-all'),
    domain: z.string().trim().min(1).max(253).optional().describe('domain id or name, with localPart instead of address'),
    localPart: z.string().trim().min(1).max(64).optional().describe('name before @, with domain; `*` is the catch-all'),
    destinations: z
      .array(mailAddress)
      .min(1, 'list at least one destination address')
      .max(MAX_ALIAS_DESTINATIONS, `an alias holds at most ${MAX_ALIAS_DESTINATIONS} destinations`)
      .describe('local or remote addresses the alias delivers to'),
    enabled: z.boolean().default(true),
  })
  .superRefine((v, ctx) => {
    if (v.address !== undefined && (v.domain !== undefined || v.localPart !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'give either address or domain with localPart, not both' });
    } else if (v.address === undefined && (v.domain === undefined || v.localPart === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.domain === undefined ? 'address' : 'localPart'], message: 'give the alias address, or domain with localPart' });
    }
  });

export const updateAliasRequest = z
  .object({
    destinations: z
      .array(mailAddress)
      .min(1, 'list at least one destination address')
      .max(MAX_ALIAS_DESTINATIONS, `an alias holds at most ${MAX_ALIAS_DESTINATIONS} destinations`),
    enabled: z.boolean(),
  })
  .partial()
  .strict();

export const aliasView = z.object({
  id: z.string(),
  tenantId: z.string(),
  domainId: z.string(),
  address: z.string(),
  localPart: z.string(),
  catchAll: z.boolean().describe('receives mail for every address of the domain that nothing else takes'),
  destinations: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const aliasPage = pageOf(aliasView);
