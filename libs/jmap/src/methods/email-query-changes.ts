/**
 * Email/queryChanges (RFC 8620 §5.6): this server does not keep past query results, so it answers
 * cannotCalculateChanges (as Email/query's canCalculateChanges: false announces) and the client queries again.
 */
import { MAIL } from '../capabilities';
import { checkAccount, requiredString } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';

export const emailQueryChanges: JmapMethod = {
  name: 'Email/queryChanges',
  capability: MAIL,
  async run(args, ctx) {
    checkAccount(args, ctx);
    requiredString(args, 'sinceQueryState');
    throw new MethodError('cannotCalculateChanges', 'query results are not kept: run Email/query again');
  },
};
