/** Quota/queryChanges (RFC 9425 §4.4): query results are not kept, so cannotCalculateChanges: query again. */
import { QUOTA } from '../capabilities';
import { checkAccount, requiredString } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';

export const quotaQueryChanges: JmapMethod = {
  name: 'Quota/queryChanges',
  capability: QUOTA,
  async run(args, ctx) {
    checkAccount(args, ctx);
    requiredString(args, 'sinceQueryState');
    throw new MethodError('cannotCalculateChanges', 'query results are not kept: run Quota/query again');
  },
};
