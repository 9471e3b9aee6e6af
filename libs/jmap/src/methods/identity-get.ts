/** Identity/get and Identity/changes (RFC 8621 §6.1, §6.2): the addresses the user may send as, with their profiles. */
import { SUBMISSION } from '../capabilities';
import { checkAccount, idsOf, optionalUnsigned, propertiesOf, requiredString } from '../args';
import { MethodError } from '../errors';
import { IDENTITY_PROPERTIES, identityIdOf, identityState, parseIdentityState, toIdentity, type IdentityProfile, type SenderIdentity } from '../identities';
import type { JmapMethod, MethodContext } from '../method';

export async function identitiesOf(ctx: MethodContext): Promise<{ identities: SenderIdentity[]; profiles: Map<string, IdentityProfile> }> {
  const source = ctx.identities;
  if (!source) throw new MethodError('accountNotSupportedByMethod', 'this server has no identities to send as');
  const [identities, profiles] = await Promise.all([source.list(ctx.account.mailboxId), source.profiles?.(ctx.account.mailboxId) ?? new Map<string, IdentityProfile>()]);
  return { identities, profiles };
}

export const identityGet: JmapMethod = {
  name: 'Identity/get',
  capability: SUBMISSION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const ids = idsOf(args, ctx);
    const properties = propertiesOf(args, IDENTITY_PROPERTIES, IDENTITY_PROPERTIES);
    const { identities, profiles } = await identitiesOf(ctx);
    const byId = new Map(identities.map((i) => [identityIdOf(i.address), i]));
    const wanted = ids ?? [...byId.keys()];
    const list = wanted.filter((id) => byId.has(id)).map((id) => {
      const identity = byId.get(id)!;
      const full = toIdentity(identity, profiles.get(identity.address));
      return Object.fromEntries(properties.map((p) => [p, full[p]]));
    });
    return { accountId: ctx.account.accountId, state: identityState(identities, profiles), list, notFound: ids ? [...new Set(ids.filter((id) => !byId.has(id)))] : [] };
  },
};

export const identityChanges: JmapMethod = {
  name: 'Identity/changes',
  capability: SUBMISSION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    const sinceState = requiredString(args, 'sinceState');
    const maxChanges = optionalUnsigned(args, 'maxChanges');
    if (maxChanges === 0) throw new MethodError('invalidArguments', 'maxChanges must be greater than 0', { arguments: ['maxChanges'] });
    const old = parseIdentityState(sinceState);
    if (!old) throw new MethodError('cannotCalculateChanges', 'sinceState is not an Identity state of this server');
    const { identities, profiles } = await identitiesOf(ctx);
    const newState = identityState(identities, profiles);
    const now = parseIdentityState(newState)!;
    const created = [...now.keys()].filter((id) => !old.has(id));
    const updated = [...now.keys()].filter((id) => old.has(id) && old.get(id) !== now.get(id));
    const destroyed = [...old.keys()].filter((id) => !now.has(id));
    // Few identities per user: too many changes for maxChanges is answered as "start again" rather than split.
    if (maxChanges !== undefined && created.length + updated.length + destroyed.length > maxChanges) {
      throw new MethodError('cannotCalculateChanges', `more than ${maxChanges} identities changed; fetch them again with Identity/get`);
    }
    return { accountId: ctx.account.accountId, oldState: sinceState, newState, hasMoreChanges: false, created, updated, destroyed };
  },
};
