/** VacationResponse/get (RFC 8621 §8.1): the account's one auto-reply. */
import { VACATION } from '../capabilities';
import { checkAccount, idsOf, propertiesOf } from '../args';
import { MethodError } from '../errors';
import type { JmapMethod } from '../method';
import { toVacationResponse, VACATION_ID, VACATION_PROPERTIES, vacationState } from '../vacation';

export const vacationResponseGet: JmapMethod = {
  name: 'VacationResponse/get',
  capability: VACATION,
  async run(args, ctx) {
    checkAccount(args, ctx);
    if (!ctx.vacation) throw new MethodError('accountNotSupportedByMethod', 'this server keeps no auto-reply');
    const ids = idsOf(args, ctx);
    const properties = propertiesOf(args, VACATION_PROPERTIES, VACATION_PROPERTIES);
    const settings = await ctx.vacation.get(ctx.account.mailboxId);
    const object = toVacationResponse(settings);
    const wanted = ids === null || ids.includes(VACATION_ID);
    const list = wanted ? [Object.fromEntries(['id', ...properties.filter((p) => p !== 'id')].map((p) => [p, object[p]]))] : [];
    return { accountId: ctx.account.accountId, state: vacationState(settings), list, notFound: (ids ?? []).filter((id) => id !== VACATION_ID) };
  },
};
